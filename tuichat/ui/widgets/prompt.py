"""The multi-line prompt: Enter sends, ctrl+j (a key every terminal delivers) adds a newline.

PageUp/PageDown scroll the conversation while the prompt's text fits in it, so that reading
back needs no change of focus; in a longer prompt they move its cursor, as in any TextArea."""

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
        Binding("pageup", "page(-1)", "Page up", id="prompt.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="prompt.page_down", show=False),
        # From where you type to what you read (its keys fold a reply), whatever pane is between.
        Binding("tab", "screen.read", "Read the conversation", id="prompt.read", show=False),
    ]

    class Page(Message):
        """The user asked to page the conversation (-1 up, 1 down)."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

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

    def action_page(self, direction: int) -> None:
        if self.wrapped_document.height > self.scrollable_content_region.height:
            (self.action_cursor_page_up if direction < 0 else self.action_cursor_page_down)()
        else:
            self.post_message(self.Page(direction))
