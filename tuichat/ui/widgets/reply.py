"""One assistant reply: its Markdown text, thought, status, sources, usage and error.

A stored reply renders once. A streaming reply is fed by the app's worker: `apply` for
every step (it only buffers) and `finish` at the end. A timer writes what was buffered
into the Markdown every FLUSH_INTERVAL, with one `MarkdownStream.write`. Each write costs
Textual a re-layout and a repaint, so the interval, not the token rate, sets the cost
(bench/tui_stream.py). The full text lives in `reply`; nothing is read back from widgets.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from textual import getters
from textual.app import ComposeResult
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
        & > #content { layout: stream; }
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

    body = getters.child_by_id("content", Markdown)

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
        self._text = _Feed()
        self._thinking = _Feed()
        self._replaced = False  # the content was replaced: render it whole at the next flush
        self._parts_changed = False  # an event or error may have changed what is under the text
        self._spin = 0
        self._flush_lock = asyncio.Lock()
        self._timer: Timer | None = None
        self._source: ReplyBuilder | None = None

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
        yield Markdown(reply.content, id="content")
        for part, text in self._parts().items():
            if live or text:
                yield Static(id=part, markup=False)

    def on_mount(self) -> None:
        self._show_parts()
        if self.streaming:
            self._timer = self.set_interval(self.FLUSH_INTERVAL, self._flush)

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
            self._text.pending.append(update.text)
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
        else:  # removed mid-stream (another chat was opened): just end the streams
            await self._text.stop()
            await self._thinking.stop()

    async def _show_final(self) -> None:
        reply = self.reply
        content = reply.content
        # A fence opened and closed while streaming can leave the last block wrong (oterm #308),
        # so a reply with fences is rendered once more, whole: the text still buffered needn't
        # be streamed first. So is text that `ReplyBuilder.finish` released (a half tag it held
        # back); the whitespace it strips changes nothing shown.
        whole = "```" in content or "~~~" in content
        if whole:
            self._text.pending.clear()
            self._replaced = False
        await self._flush()
        await self._text.stop()
        await self._thinking.stop()
        if whole or self.body.source.strip() != content.strip():
            await self.body.update(content)
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
            if self._replaced:
                self._replaced = False
                self._text.pending.clear()
                content = self.reply.content  # read together with the clear: later text stays pending
                await self._text.stop()
                await self.body.update(content)
            await self._text.flush(self.body)
            if self._thinking.pending:
                thought = self.query_one("#thought", Collapsible)
                thought.display = True
                await self._thinking.flush(thought.query_one(Markdown))
            if self._parts_changed or self._spinning:
                self._parts_changed = False
                self._spin += 1
                self._show_parts()

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
