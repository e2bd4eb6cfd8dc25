"""The multi-line prompt: Enter sends, ctrl+j (a key every terminal delivers) adds a newline.

PageUp/PageDown scroll the conversation while the prompt's text fits in it, so that reading
back needs no change of focus; in a longer prompt they move its cursor, as in any TextArea.
Up on the first line goes to the pending attachments' chips, when there are some. A paste
that is only the paths of existing files (a file dragged into the terminal) is not typed in:
`PathsPasted` lets the screen ask whether to attach them or keep the text."""

from __future__ import annotations

from pathlib import Path

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
        Binding("up", "up", "Cursor up, or to the attachments from the first line", id="prompt.up", show=False),
    ]

    class Up(Message):
        """Up on the first line: the user wants what is above the prompt (the chips)."""

    class PathsPasted(Message):
        """A paste that names existing files: the screen offers them as attachments."""

        def __init__(self, prompt: Prompt, text: str, paths: list[Path]) -> None:
            super().__init__()
            self.prompt, self.text, self.paths = prompt, text, paths

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

    async def _on_paste(self, event: events.Paste) -> None:
        from tuichat.ui.pasted_paths import pasted_files

        paths = pasted_files(event.text)
        if paths and not self.read_only:
            event.stop()
            event.prevent_default()
            self.post_message(self.PathsPasted(self, event.text, paths))
        # Otherwise TextArea's own handler (next in the MRO, Textual calls each) types it in.

    def action_up(self) -> None:
        location = self.cursor_location
        if self.navigator.is_first_document_line(location) and self.navigator.is_first_wrapped_line(location):
            self.post_message(self.Up())
        else:
            self.action_cursor_up()

    def action_newline(self) -> None:
        self.insert("\n")

    def action_page(self, direction: int) -> None:
        if self.wrapped_document.height > self.scrollable_content_region.height:
            (self.action_cursor_page_up if direction < 0 else self.action_cursor_page_down)()
        else:
            self.post_message(self.Page(direction))
