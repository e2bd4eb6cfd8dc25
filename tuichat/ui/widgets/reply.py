"""One assistant reply: its Markdown text, thought, status, sources, usage and error.

A stored reply renders once. A streaming reply is fed by the app's worker: `apply` for
every step (it only buffers) and `finish` at the end. A timer writes what was buffered
every FLUSH_INTERVAL into a `ReplyText`: a column of Markdown segments of which only the
last is rendered again, so a write costs about one block, not the whole reply; what the
conversation scrolled past is folded (`Fold`) so layouts skip it. Each write still costs
Textual a layout and a repaint, so the interval, not the token rate, sets the cost
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

from tuichat.runtime.reply.builder import ReplyBuilder
from tuichat.runtime.reply.model import Reply, Update
from tuichat.ui.widgets.fold import Fold

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
    """The garbage collector's full passes are off while replies stream (and while a long
    chat's earlier messages mount).

    Each flush builds and drops thousands of objects (widgets, strips, geometry), so full
    passes came every few seconds, and each walked the whole app: 0.1-0.5 s, the stream's
    worst stalls (bench/tui_stream.py). Young collections go on as usual (rarer ones took
    longer each, for no less work). When the last stream ends, the young generations are
    collected and everything left is frozen (`gc.freeze`), as the conversation does with a
    chat's history: it lives as long as the chat is open, and later full passes needn't
    walk it."""

    def __init__(self) -> None:
        self.holders = 0
        self.saved: tuple[int, int, int] | None = None

    def hold(self) -> None:
        self.holders += 1
        if self.holders == 1:
            self.saved = gc.get_threshold()
            gc.set_threshold(self.saved[0], self.saved[1], 1_000_000)

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0 and self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
            gc.collect(1)
            gc.freeze()


gc_hold = _GcHold()


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what markdown-it counts as the end of a line
_HALF_FENCE = re.compile(r"(?:^|(?<=[\r\n])) {0,3}(?:```|~~~)[^\r\n]*\Z")  # a last line opening a fence


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("gfm-like")  # the parser Textual's Markdown uses


# The blocks Textual's Markdown gives no top margin. A segment of a streaming reply best
# starts with one: its gap to the block above is then that block's bottom margin alone,
# which the segment above has (a Markdown's height counts its first block's top margin and
# its last block's bottom margin), so the margins between segments add up as they collapse
# in one Markdown. Before any other block the gap needs mending (see ReplyText).
_NO_TOP_MARGIN = frozenset({"paragraph_open", "bullet_list_open", "ordered_list_open", "table_open"})


def segment_cut(text: str, most: int) -> int:
    """Where a segment of a streaming reply's `text` can end (0: not yet): before its last
    top-level block that starts with no top margin, not before its first block; failing
    one, once more than `most` blocks have gathered, before its last block.

    Every block above the last is complete: no text appended later can change it (the rule
    Textual's own Markdown streaming relies on), so a Markdown of `text[:cut]` renders
    those blocks as the whole text would. (The last block's kind may still change: "``"
    is a paragraph until a third backtick makes it a fence.)"""
    starts = [(t.map[0], t.type) for t in _parser().parse(text) if t.level == 0 and t.nesting >= 0 and t.map]
    line = next((start for start, kind in reversed(starts[1:]) if kind in _NO_TOP_MARGIN), 0)
    if not line and len(starts) > most:
        line = starts[-1][0]
    if line <= (starts[0][0] if starts else 0):
        return 0
    breaks = _LINE_BREAK.finditer(text)
    for _ in range(line - 1):
        next(breaks)
    return next(breaks).end()


_MENDS = ("-m00", "-m01", "-m10", "-m11")  # classes in ReplyText's CSS


class ReplyText(Widget):
    """A streaming reply's text, as a column of Markdown segments.

    Each segment ends at a top-level block boundary (`segment_cut`). A write touches only
    the last one (live): it appends to it (`Markdown.append`, which re-parses from its last
    block), so a write costs about as much as the last block. The live segment is rendered
    whole from its text when it is sealed and at the end, so a stale fence or table row that
    `append` can leave behind (oterm #308; still seen with 8.2.8) never outlives its segment,
    and the stream needs no re-render of the whole reply at its end. The column renders as
    one Markdown of the whole text would, margins included.

    While the conversation follows the stream, the segments it scrolled past are folded
    (`folding`, a `Fold`).
    """

    # Blocks a live segment may gather before it ends where its gap needs mending (a run of
    # headings and fences with no paragraph, list or table between them).
    MOST_BLOCKS = 6

    DEFAULT_CSS = """
    ReplyText {
        height: auto;
        /* Like a stored reply's Markdown; and a stream layout measures its children at the
           width alone, so a segment's measure stays cached while the column grows. */
        layout: stream;
        & > Markdown {
            layout: stream;
            /* The first block of a segment after a mended gap: top margin less the overlap
               with the bottom margin above (margins set in code don't count in a stream). */
            & > .-m00 { margin: 0 0 0 0; }
            & > .-m01 { margin: 0 0 1 0; }
            & > .-m10 { margin: 1 0 0 0; }
            & > .-m11 { margin: 1 0 1 0; }
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._live = Markdown()
        self._live_text = ""  # the text of the live segment
        self._sealed_text = ""  # the text of the segments above it
        self.folding = Fold(self)

    def compose(self) -> ComposeResult:
        yield self._live

    @property
    def markdowns(self) -> list[Markdown]:
        return list(self.query_children(Markdown))

    @property
    def text(self) -> str:
        """Everything written (a fence's opening line is shown once it is complete)."""
        return self._sealed_text + self._live_text

    async def write(self, text: str, *, final: bool = False) -> None:
        """Add `text` to what is shown (`final`: nothing more will come)."""
        live = self._live_text + text
        cut = segment_cut(live, self.MOST_BLOCKS) if text else 0
        if cut:  # seal the live segment with its complete blocks; the rest starts the next
            await self._render_segment(self._live, live[:cut])
            self._sealed_text += live[:cut]
            self._live = Markdown()
            await self.mount(self._live)
            live = live[cut:]
        self._live_text = live
        # A fence's opening line waits for its end: a half info string ("pyt") would make
        # Pygments look for a lexer it hasn't got, which loads every lexer plugin once (~0.3 s).
        opener = None if final else _HALF_FENCE.search(live)
        shown = live[: opener.start()] if opener else live
        source = self._live.source
        if shown == source and not final:
            return
        if not final and not cut and source and shown.startswith(source):
            await self._live.append(shown[len(source) :])
            self._mend(self._live)
        else:
            await self._render_segment(self._live, shown)

    async def replace(self, text: str) -> None:
        """Show `text` instead of what is shown."""
        self._live, self._live_text, self._sealed_text = Markdown(), "", ""
        with self.app.batch_update():
            await self.remove_children()
            self.folding.forget()
            await self.mount(self._live)
        await self.write(text)

    async def _render_segment(self, markdown: Markdown, text: str) -> None:
        await markdown.update(text)
        self._mend(markdown)

    def _mend(self, markdown: Markdown) -> None:
        """Mend the gap above a segment whose first block has a top margin: the segment
        above counts its last block's bottom margin, which one Markdown would have collapsed
        with that top margin, so the first block takes a class with a top margin less their
        overlap. (The class stays if the theme changes margins later: a fence's, to none
        with an ANSI theme, leaves its gap a line too tall till the chat is opened again.)"""
        first = markdown.children[0] if markdown.children else None
        if first is None or any(first.has_class(name) for name in _MENDS):
            return
        segments = [child for child in self.children if isinstance(child, Markdown)]
        # The last block above: segments of HTML alone have none (Markdown shows no HTML).
        above = next((s.children[-1] for s in reversed(segments[: segments.index(markdown)]) if s.children), None)
        top, right, bottom, left = first.styles.margin
        overlap = min(top, above.styles.margin.bottom if above is not None else 0)
        mended = f"-m{top - overlap}{bottom}"
        if overlap and not (right or left) and mended in _MENDS:
            first.add_class(mended)

    def on_resize(self) -> None:
        if self.folding.folds and self.size.width != self.folding.width:
            self.folding.unfold()


class ReplyView(Widget):
    """One assistant reply, stored (rendered once) or streaming (`apply`, then `finish`)."""

    # Each flush costs Textual a layout and a repaint, whatever the token rate.
    # bench/tui_stream.py, a 12k-char reply at 60 tokens/s: with one MarkdownStream a 50 ms
    # interval used ~70% of a core, as much as writing every token, and 0.4 s about 30%;
    # with segments and folding, 0.4 s uses about 12%, stalls p95 2 ms, max under 100 ms.
    FLUSH_INTERVAL = 0.4  # seconds between writes to the Markdown while streaming
    FOLD_LEAST = 1.0  # fold what the stream scrolled past in runs of this many screens or more

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
            gc_hold.hold()
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
        text.folding.unfold(gradually=True)
        written, content = text.text, reply.content
        if content.startswith(written):
            await text.write(content[len(written) :], final=True)
        elif written.strip() == content.strip():
            await text.write("", final=True)
        else:
            await text.replace(content)
            await text.write("", final=True)
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
            # One layout and repaint per flush: a render awaits Markdown's parse (in a thread)
            # and mounts, so without the batch the screen would refresh between them.
            with self.app.batch_update():
                await self._flush_parts(text)

    async def _flush_parts(self, text: ReplyText) -> None:
        if self._replaced:
            self._replaced = False
            self._pending.clear()
            await text.replace(self.reply.content)  # read with the clear: later text stays pending
        elif self._pending:
            chunk = "".join(self._pending)
            self._pending.clear()
            # Folding first: the folded widgets then ask for their layout while the write
            # awaits, so that it comes with the write's, in one refresh after the batch.
            self._fold(text)
            await text.write(chunk)
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
        at_end = scroller is not None and scroller.is_anchored and scroller.scroll_y >= scroller.max_scroll_y
        if self.streaming and scroller is not None and at_end:
            text.folding.fold(scroller.region.y, least=int(scroller.region.height * self.FOLD_LEAST))

    def _scrolled(self, old: float, new: float) -> None:
        if new < old:  # the user scrolls up: show everything (the anchor only moves down)
            for text in self.query_children(ReplyText):
                text.folding.unfold()

    def _release_gc(self) -> None:
        if self._holds_gc:
            self._holds_gc = False
            gc_hold.release()

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
