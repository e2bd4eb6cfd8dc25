"""A multi-line text field that keeps the prompt's keys: Enter submits, ctrl+j adds a new line.

Used by every dialog with room for several lines (a system prompt, editing a message, a pipe's
`textarea` question), so Enter means the same in a dialog as in the prompt (it used to add a
line there, and ctrl+j to save)."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEY = "ctrl+j"  # a key every terminal delivers (LF); shift+enter reaches few


class MultilineField(TextArea):
    BINDINGS = [Binding(NEWLINE_KEY, "newline", "New line", id="field.newline", show=False)]

    class Submitted(Message):
        """Enter was pressed in the field."""

        def __init__(self, field: MultilineField) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> MultilineField:
            return self.field

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")
