"""The side bar of stored chats: newest first, Enter opens one."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tuichat.store import ChatRow


class ChatList(OptionList):
    DEFAULT_CSS = """
    ChatList {
        width: 28;
        height: 1fr;
        border: tall $border-blurred;
    }
    ChatList:focus {
        border: tall $border;
    }
    """

    class Opened(Message):
        def __init__(self, chat_id: str) -> None:
            super().__init__()
            self.chat_id = chat_id

    def show_chats(self, chats: list[ChatRow], current: str | None) -> None:
        self.clear_options()
        self.add_options([Option(chat.title or "New chat", id=chat.id) for chat in chats])
        if current is not None:
            self.select(current)

    def select(self, chat_id: str) -> None:
        try:
            self.highlighted = self.get_option_index(chat_id)
        except Exception:  # an unsaved chat is not listed yet
            self.highlighted = None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Opened(event.option.id))
