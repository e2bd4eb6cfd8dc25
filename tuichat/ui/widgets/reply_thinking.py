"""A streaming reply's reasoning, written between the reply's writes."""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream


class Thinking:
    """Reasoning buffered between writes, then written to its Markdown through one stream."""

    def __init__(self) -> None:
        self.pending: list[str] = []
        self._stream: MarkdownStream | None = None

    async def write(self, markdown: Markdown) -> None:
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
