"""One assistant reply: its Markdown text, thought, status, sources, usage and error.

A stored reply renders once. A streaming reply is fed by the app's worker: `apply` for
every step (it only buffers) and `finish` at the end. A timer writes what was buffered
into the Markdown every FLUSH_INTERVAL, with one `MarkdownStream.write`. Each write costs
Textual a re-layout and a repaint, so the interval, not the token rate, sets the cost
(bench/tui_stream.py). The full text lives in `reply`; nothing is read back from widgets.
"""

from __future__ import annotations

import asyncio
import gc
import re
from functools import cache
from typing import Any, TypeVar

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Collapsible, Label, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from tuichat.runtime.reply import Reply, ReplyBuilder, Update

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
T = TypeVar("T")


class _Feed:
    """Text buffered between flushes, then written to a Markdown through one stream."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self._stream: MarkdownStream | None = None

    async def flush(self, markdown: Markdown) -> None:
        if self.pending:
            text = "".join(self.pending)
            self.pending.clear()
            if self._stream is None:
                self._stream = Markdown.get_stream(markdown)
            await self._stream.write(text)

    async def stop(self) -> None:
        """Wait until everything written so far is in the Markdown."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None


class _GcHold:
    """The garbage collector's settings while replies stream.

    Each flush builds and drops thousands of objects (widgets, strips, geometry), so with
    the default thresholds the collector ran ~75 times a second, and its full passes over
    the whole app took 0.1-0.5 s each: most of the stream's stalls. While a reply streams,
    young collections are rarer and full ones are off; when the last stream ends the young
    generations are collected and everything left is frozen (`gc.freeze`), as the conversation
    does with a chat's history: it lives as long as the chat is open, and later full passes
    needn't walk it."""

    THRESHOLD0 = 5000  # allocations between young collections (Python's default is 700)

    def __init__(self) -> None:
        self.holders = 0
        self.saved: tuple[int, int, int] | None = None

    def hold(self) -> None:
        self.holders += 1
        if self.holders == 1:
            self.saved = gc.get_threshold()
            gc.set_threshold(max(self.THRESHOLD0, self.saved[0]), self.saved[1], 1_000_000)

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0 and self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
            gc.collect(1)
            gc.freeze()


_gc_hold = _GcHold()


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what markdown-it counts as the end of a line


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("gfm-like")  # the parser Textual's Markdown uses


def last_block_start(text: str) -> int:
    """Where the last top-level Markdown block of `text` starts (0 if it has only one).

    Every block above it is complete: no text appended later can change it (the rule
    Textual's own Markdown streaming relies on), so a Markdown of `text[:cut]` renders
    those blocks as the whole text would."""
    starts = [t.map[0] for t in _parser().parse(text) if t.level == 0 and t.nesting >= 0 and t.map]
    if len(starts) < 2 or starts[-1] <= starts[0]:
        return 0
    breaks = _LINE_BREAK.finditer(text)
    match = None
    for _ in range(starts[-1]):
        match = next(breaks)
    return match.end() if match is not None else 0


class ReplyText(Widget):
    """A streaming reply's text, as a column of Markdown segments.

    Each segment ends at a top-level block boundary. Only the last one (live) is rendered
    again by a write, whole, from its text, so each write costs as much as its last block,
    and what is shown is always a fresh render: never the stale fence or table row that
    Textual's incremental `Markdown.append` can leave behind (oterm #308; still seen with
    8.2.8), so the stream needs no repairing re-render at its end. A segment's outer block
    margins move to the segment, so that they collapse between segments as between the
    blocks of one Markdown, and the column renders as one Markdown of the whole text would.

    Widget count is what each layout costs, so while the conversation follows the stream,
    segments well above the viewport are folded: hidden behind one blank spacer of their
    height (`fold`); `unfold` shows them again.
    """

    DEFAULT_CSS = """
    ReplyText {
        height: auto;
        layout: stream;
        & > .-spacer { height: 0; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._live = Markdown()
        self._live_text = ""
        self._spacer: Widget | None = None
        self._folded: list[Markdown] = []
        self._folded_width = 0

    def compose(self) -> ComposeResult:
        yield self._live

    @property
    def markdowns(self) -> list[Markdown]:
        return list(self.query_children(Markdown))

    @property
    def source(self) -> str:
        """The Markdown shown, all segments joined."""
        return "".join(markdown.source for markdown in self.markdowns)

    async def write(self, text: str) -> None:
        """Show `text` after what is shown."""
        if not text:
            return
        live = self._live_text + text
        cut = last_block_start(live)
        if cut:  # seal the live segment with its complete blocks; the rest starts the next
            await self._render_segment(self._live, live[:cut])
            self._live = Markdown()
            await self.mount(self._live)
            live = live[cut:]
        self._live_text = live
        await self._render_segment(self._live, live)

    async def replace(self, text: str) -> None:
        """Show `text` instead of what is shown."""
        self.unfold()
        self._live, self._live_text = Markdown(), ""
        with self.app.batch_update():
            await self.remove_children()
            await self.mount(self._live)
        await self.write(text)

    @staticmethod
    async def _render_segment(markdown: Markdown, text: str) -> None:
        await markdown.update(text)
        # Move the outer margins of the segment's blocks to the segment (see the class doc).
        blocks = [block for block in markdown.children if block.display]
        if not blocks:
            markdown.styles.margin = (0, 0, 0, 0)
            return
        first, last = blocks[0], blocks[-1]
        top, bottom = first.styles.margin.top, last.styles.margin.bottom
        for block in {first, last}:
            t, r, b, l = block.styles.margin
            block.styles.margin = (0 if block is first else t, r, 0 if block is last else b, l)
        markdown.styles.margin = (top, 0, bottom, 0)

    # -- folding --------------------------------------------------------------------------
    def fold(self, above: int) -> None:
        """Fold the sealed segments that end above screen row `above`."""
        if self.size.width != self._folded_width:
            self.unfold()
        candidates = [child for child in self.children if child.display and child is not self._spacer]
        folding: list[Widget] = []
        for segment, after in zip(candidates, candidates[1:]):  # never the live (last) one
            region = segment.region
            if not region or region.bottom >= above or not after.region:
                break
            folding.append(segment)
        if not folding:
            return
        keep = candidates[len(folding)]
        # The spacer's height puts `keep` where it is: the stream layout places it below the
        # spacer (no margin) after its own top margin.
        height = keep.region.y - self.content_region.y - keep.styles.margin.top
        if self._spacer is None:
            self._spacer = Widget(classes="-spacer")
            self.mount(self._spacer, before=0)
        self._spacer.styles.height = height
        for segment in folding:
            segment.display = False
        self._folded += folding  # type: ignore[arg-type]
        self._folded_width = self.size.width

    def unfold(self) -> None:
        """Show every folded segment again."""
        if self._folded:
            for segment in self._folded:
                segment.display = True
            self._folded.clear()
        if self._spacer is not None:
            self._spacer.styles.height = 0

    @property
    def folded(self) -> int:
        """How many segments are folded."""
        return len(self._folded)

    def on_resize(self) -> None:
        if self._folded and self.size.width != self._folded_width:
            self.unfold()


class ReplyView(Widget):
    """One assistant reply, stored (rendered once) or streaming (`apply`, then `finish`)."""

    # Each flush costs Textual one or two layouts and full repaints (15-45 ms each on a 2-core
    # box), whatever the token rate. bench/tui_stream.py, a 12k-char reply at 60 tokens/s: at
    # 50 ms the app used ~70% of a core, as much as writing every token; at 0.4 s about 34%,
    # with event-loop stalls (p95) under 20 ms.
    FLUSH_INTERVAL = 0.4  # seconds between writes to the Markdown while streaming

    DEFAULT_CSS = """
    ReplyView {
        height: auto;
        & > .model { padding: 0 2; color: $text-accent; text-style: bold; }
        /* A stream layout keeps the placements of the blocks above the one that changed. */
        & > Markdown#content { layout: stream; }
        & > #error {
            margin: 0 2;
            padding: 0 1;
            color: $text-error;
            background: $error-muted;
            border-left: outer $error;
            text-style: bold;
            &.-stopped { color: $text-warning; background: $warning-muted; border-left: outer $warning; }
        }
        & > #status, & > #sources, & > #usage { padding: 0 2; color: $text-muted; }
        & > #follow_ups { padding: 0 2; color: $text-secondary; }
        & > #status.-busy { color: $text; }
    }
    """

    def __init__(
        self,
        reply: Reply | None = None,
        *,
        model_name: str = "",
        streaming: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.reply = reply if reply is not None else Reply()
        self.model_name = model_name
        self.streaming = streaming
        self._pending: list[str] = []  # text buffered since the last flush
        self._thinking = _Feed()
        self._replaced = False  # the content was replaced: render it whole at the next flush
        self._parts_changed = False  # an event or error may have changed what is under the text
        self._spin = 0
        self._flush_lock = asyncio.Lock()
        self._timer: Timer | None = None
        self._source: ReplyBuilder | None = None
        self._scroller: ScrollableContainer | None = None
        self._holds_gc = False

    def compose(self) -> ComposeResult:
        # A streaming reply composes every part, hidden until it has something to show;
        # a stored one only the parts it has (widget count is what slows long chats).
        reply, live = self.reply, self.streaming
        if self.model_name:
            yield Label(self.model_name, classes="model", markup=False)
        if live or reply.reasoning:
            with Collapsible(title="Thinking…" if live else "Thought", id="thought") as thought:
                thought.display = bool(reply.reasoning)
                yield Markdown(reply.reasoning)
        yield ReplyText(id="content") if live else Markdown(reply.content, id="content")
        for part, text in self._parts().items():
            if live or text:
                yield Static(id=part, markup=False)

    def on_mount(self) -> None:
        self._show_parts()
        if self.streaming:
            self._timer = self.set_interval(self.FLUSH_INTERVAL, self._flush)
            self._holds_gc = True
            _gc_hold.hold()
            self._scroller = next((a for a in self.ancestors if isinstance(a, ScrollableContainer)), None)
            if self._scroller is not None:
                self.watch(self._scroller, "scroll_y", self._scrolled, init=False)

    def on_unmount(self) -> None:
        self._release_gc()

    @property
    def markdowns(self) -> list[Markdown]:
        """The Markdown widgets showing the reply's text, top to bottom."""
        content = self.get_child_by_id("content")
        return content.markdowns if isinstance(content, ReplyText) else [content]  # type: ignore[list-item]

    @property
    def shown_text(self) -> str:
        """The Markdown source the text widgets show."""
        return "".join(markdown.source for markdown in self.markdowns)

    # -- streaming --------------------------------------------------------------------
    def follow(self, builder: ReplyBuilder) -> None:
        """Read the reply from `builder` once per flush: reading it joins the text so far,
        which per step would make a long reply cost quadratic time."""
        self._source = builder

    def apply(self, update: Update, reply: Reply | None = None) -> None:
        """Take one step's change (`reply`, the reply so far, unless following a builder).
        Only buffers: no widget work."""
        if reply is not None:
            self.reply = reply
        if update.replaced:
            self._replaced = True  # the flush renders reply.content, which has any later text too
        elif update.text:
            self._pending.append(update.text)
        if update.reasoning:
            self._thinking.pending.append(update.reasoning)
        if update.event is not None or update.error:
            self._parts_changed = True

    async def finish(self, reply: Reply) -> None:
        """End the stream: show the last text, fences rendered whole, the final status/usage/error."""
        self.reply = reply
        async with self._flush_lock:  # a running flush ends before its timer is stopped
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.streaming = False
        if self.is_attached:
            await self._show_final()
        else:  # removed mid-stream (another chat was opened): just end the stream
            await self._thinking.stop()
        self._release_gc()

    async def _show_final(self) -> None:
        reply = self.reply
        await self._flush()
        await self._thinking.stop()
        # The segments are fresh renders: no fence or table to repair (see ReplyText). What is
        # left is text that `ReplyBuilder.finish` released (a half tag it held back); the
        # whitespace it strips changes nothing shown.
        text = self.query_one("#content", ReplyText)
        text.unfold()
        shown, content = text.source, reply.content
        if content.startswith(shown):
            await text.write(content[len(shown) :])
        elif shown.strip() != content.strip():
            await text.replace(content)
        if reply.reasoning:
            thought = self.query_one("#thought", Collapsible)
            thought.display = True
            thought.title = "Thought"
            reasoning = thought.query_one(Markdown)
            if reasoning.source.strip() != reply.reasoning.strip():
                await reasoning.update(reply.reasoning)
        self._show_parts()

    async def _flush(self) -> None:
        async with self._flush_lock:
            if self._source is not None:
                self.reply = self._source.reply
            text = self.query_one("#content", ReplyText)
            if self._replaced:
                self._replaced = False
                self._pending.clear()
                await text.replace(self.reply.content)  # read with the clear: later text stays pending
            elif self._pending:
                chunk = "".join(self._pending)
                self._pending.clear()
                await text.write(chunk)
                self._fold(text)
            if self._thinking.pending:
                thought = self.query_one("#thought", Collapsible)
                thought.display = True
                await self._thinking.flush(thought.query_one(Markdown))
            if self._parts_changed or self._spinning:
                self._parts_changed = False
                self._spin += 1
                self._show_parts()

    # -- folding and garbage collection while streaming --------------------------------------
    def _fold(self, text: ReplyText) -> None:
        """Fold the segments more than a screen above the viewport while the conversation
        follows the stream (at the bottom, anchored)."""
        scroller = self._scroller
        if self.streaming and scroller is not None and scroller.is_anchored:
            if scroller.scroll_y >= scroller.max_scroll_y:
                text.fold(scroller.region.y - scroller.region.height)

    def _scrolled(self, old: float, new: float) -> None:
        if new < old:  # the user scrolls up: show everything (the anchor only moves down)
            for text in self.query_children(ReplyText):
                text.unfold()

    def _release_gc(self) -> None:
        if self._holds_gc:
            self._holds_gc = False
            _gc_hold.release()

    # -- what is under the text ----------------------------------------------------------
    @property
    def _spinning(self) -> bool:
        status = self.reply.shown_status
        return self.streaming and status is not None and status.get("done") is False

    def _parts(self) -> dict[str, str]:
        """The text of each part under the reply, by widget id, in display order."""
        reply = self.reply
        status = reply.shown_status
        status_line = status_text(status) if status is not None else ""
        if self._spinning:
            status_line = f"{SPINNER[self._spin % len(SPINNER)]} {status_line}"
        stopped = "Stopped" if reply.status == "stopped" else ""
        return {
            "error": "\n".join(text for text in (reply.error, stopped) if text),
            "status": status_line,
            "sources": sources_text(reply.sources),
            "usage": usage_line(reply.usage),
            "follow_ups": follow_ups_text(reply.follow_ups),
        }

    def _show_parts(self) -> None:
        for part, text in self._parts().items():
            for widget in self.query_children(f"#{part}").results(Static):
                shown = str(widget.content)
                if text != shown:
                    widget.update(text, layout=text[1:] != shown[1:])  # a new spinner frame needs no layout
                widget.display = bool(text)
                widget.set_class(part == "error" and self.reply.error is None, "-stopped")
                widget.set_class(part == "status" and self._spinning, "-busy")


def status_text(status: dict[str, Any]) -> str:
    """A status line as Open WebUI words it, with `{{count}}` and `{{searchQuery}}` filled in."""
    text = str(status.get("description") or status.get("action") or "")
    count = status.get("count", len(status.get("urls") or status.get("items") or ()))
    return text.replace("{{count}}", str(count)).replace("{{searchQuery}}", str(status.get("query", "")))


def citations(sources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """`(name, url)` per citation, grouped as Open WebUI's Citations.svelte groups documents:
    by `metadata[i].source`, else `source.id`, else "N/A". The group's first document names
    it (`metadata[i].name`, else `source.name`), and an http(s) id is its name and url."""
    grouped: dict[str, tuple[str, str]] = {}
    for source in sources:
        origin, metadata = _field(source, "source", dict), _field(source, "metadata", list)
        for index in range(len(_field(source, "document", list))):
            meta = metadata[index] if index < len(metadata) and isinstance(metadata[index], dict) else {}
            key = next((str(v) for v in (meta.get("source"), origin.get("id")) if v is not None), "N/A")
            if key in grouped:
                continue
            name, url = str(meta.get("name") or origin.get("name") or key), str(origin.get("url") or "")
            if key.startswith(("http://", "https://")):
                name = url = key
            grouped[key] = (name, url)
    return list(grouped.values())


def _field(data: dict[str, Any], key: str, kind: type[T]) -> T:
    """`data[key]` if it is a `kind`, else an empty one: pipes send what they like."""
    value = data.get(key)
    return value if isinstance(value, kind) else kind()


def sources_text(sources: list[dict[str, Any]]) -> str:
    """One line per citation: `[1] name  url` (the url only when it is not the name)."""
    return "\n".join(
        f"[{n}] {name}" + (f"  {url}" if url and url != name else "")
        for n, (name, url) in enumerate(citations(sources), 1)
    )


def follow_ups_text(follow_ups: list[str]) -> str:
    """The suggested next questions (`chat:message:follow_ups`), one a line under a heading."""
    lines = [" ".join(item.split()) for item in follow_ups if item.strip()]
    return "\n".join(["Follow-ups:", *(f"  › {line}" for line in lines)]) if lines else ""


def usage_line(usage: dict[str, Any] | None) -> str:
    """The usage numbers on one line: `prompt_tokens 12 · completion_tokens 40 · …`."""
    numbers = [(k, v) for k, v in (usage or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return " · ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in numbers)
