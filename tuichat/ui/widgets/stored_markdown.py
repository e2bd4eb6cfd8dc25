"""A stored text's Markdown: its blocks composed with it, not mounted after it."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widgets import Markdown

from tuichat.ui.widgets.markdown_parser import parser
from tuichat.ui.widgets.settled import KeptLines


class StoredMarkdown(KeptLines, Markdown):
    """A Markdown whose text is known when it is built (a stored reply's).

    Textual's Markdown shows its first text only once mounted: it parses it in a worker
    thread, then mounts the blocks. So each reply of a chat being opened came back to the
    event loop on its own, and the screen was laid out three or four times (~90 ms each
    for a window of 20 messages) before all of them had their blocks. Composed here, the
    blocks are mounted with the reply, and the window is laid out once. Later `update`s
    and `append`s work as Markdown's."""

    def __init__(self, markdown: str, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(None, id=id, classes=classes, parser_factory=parser)
        self._stored = markdown

    def compose(self) -> ComposeResult:
        text, self._stored = self._stored, ""
        self._markdown, self._theme = text, self.app.theme
        yield from self._parse_markdown(parser().parse(text))
        lines = text.splitlines()
        self._last_parsed_line = len(lines) - (1 if lines and lines[-1] else 0)  # as `update` leaves it

    def _on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # Markdown's would show its (empty) first text, dropping the blocks
