"""The multi-line prompt: Enter sends, ctrl+j (a key every terminal delivers) adds a newline."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class Prompt(TextArea):
    DEFAULT_CSS = """
    Prompt {
        height: auto;
        min-height: 3;
        max-height: 10;
        border: tall $border-blurred;
    }
    Prompt:focus {
        border: tall $border;
    }
    """

    BINDINGS = [
        Binding("ctrl+j", "newline", "Newline", id="prompt.newline", show=False),
    ]

    class Submitted(Message):
        """The user sent the text in the prompt."""

        def __init__(self, prompt: Prompt, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.placeholder = "Message · Enter sends · ctrl+j newline"

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.post_message(self.Submitted(self, text))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")
