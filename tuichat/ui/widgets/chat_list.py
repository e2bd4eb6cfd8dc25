"""The side bar of stored chats: newest first, Enter opens one."""

from __future__ import annotations

from collections.abc import Mapping

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from tuichat.runtime.untrusted import neutralise
from tuichat.store import ChatRow


class ChatList(OptionList):
    # The open chat is bold, not only coloured, and with NO_COLOR the cursor of the focused list
    # is underlined too (Textual drops `reverse` from option styles): both stay visible in 16
    # colours and in monochrome.
    DEFAULT_CSS = """
    ChatList {
        width: 28;
        height: 1fr;
        border: tall $border-blurred;
        border-title-color: $text-muted;
        & > .option-list--option-highlighted { text-style: bold; }
        &:focus > .option-list--option-highlighted { text-style: bold; }
        &:nocolor:focus > .option-list--option-highlighted { text-style: bold underline; }
    }
    ChatList:focus {
        border: tall $border;
        border-title-color: $text;
        border-title-style: bold;
    }
    """

    class Opened(Message):
        def __init__(self, chat_id: str) -> None:
            super().__init__()
            self.chat_id = chat_id

    def on_mount(self) -> None:
        self.border_title = "Chats"

    def show_chats(self, chats: list[ChatRow], current: str | None, titles: Mapping[str, str] | None = None) -> None:
        """List `chats`; `titles` are shown instead of the stored ones (a pipe's `chat:title`).
        A pipe may have written any title: its control characters are shown (`untrusted`)."""
        titles = titles or {}
        # A list the person is moving through keeps their place (a reply's title or tags may
        # refresh it meanwhile); otherwise it shows the current chat.
        browsing = self.highlighted_option.id if self.has_focus and self.highlighted_option is not None else None
        self.clear_options()
        self.add_options([Option(neutralise(titles.get(chat.id) or chat.title or "New chat"), id=chat.id) for chat in chats])
        if browsing is not None and any(chat.id == browsing for chat in chats):
            self.select(browsing)
        elif current is not None:
            self.select(current)

    def set_title(self, chat_id: str, title: str) -> None:
        """Show `title` for one chat, in place (the list is not reloaded)."""
        try:
            self.replace_option_prompt(chat_id, neutralise(title))
        except OptionDoesNotExist:  # an unsaved chat is not listed yet
            pass

    def select(self, chat_id: str) -> None:
        try:
            self.highlighted = self.get_option_index(chat_id)
        except Exception:  # an unsaved chat is not listed yet
            self.highlighted = None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Opened(event.option.id))
