"""The messages of one chat, newest at the bottom.

Widget count is what makes long chats slow, so only the last WINDOW messages are
mounted; scrolling to the top mounts the previous window.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from tuichat.runtime.history import reply_of
from tuichat.store import MessageRow
from tuichat.ui.widgets.reply import ReplyView

WINDOW = 20  # each stored reply is a Markdown widget tree: ~6 widgets a message


class UserMessage(Static):
    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 8;
        padding: 0 1;
        background: $boost;
        border-left: thick $accent;
    }
    """

    def __init__(self, text: str, message_id: str | None = None) -> None:
        super().__init__(text, markup=False)
        self.message_id = message_id


class Conversation(VerticalScroll):
    DEFAULT_CSS = """
    Conversation {
        layout: stream;
        height: 1fr;
        padding: 0 1;
    }
    Conversation ReplyView {
        margin: 1 0 0 0;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, can_focus=True)
        self._messages: list[MessageRow] = []
        self._first_mounted = 0
        self.model_names: Callable[[str | None], str] = lambda model_id: model_id or ""

    async def show(self, messages: list[MessageRow]) -> None:
        """Replace what is shown with a stored chat's messages (only the last window is mounted)."""
        self._messages = messages
        self._first_mounted = max(0, len(messages) - WINDOW)
        await self.remove_children()
        await self.mount_all([self._widget_for(m) for m in messages[self._first_mounted :]])
        self.anchor()
        # The mounted history lives as long as the chat is open: keep it out of every
        # later full garbage-collection pass (those cost 60-360 ms with a long chat).
        gc.freeze()

    def _widget_for(self, message: MessageRow) -> Widget:
        if message.role == "assistant":
            view = ReplyView(reply_of(message), model_name=self.model_names(message.model_id))
            view.message_id = message.id  # type: ignore[attr-defined]
            return view
        return UserMessage(message.content, message.id)

    async def add(self, widget: Widget) -> None:
        await self.mount(widget)
        self.anchor()

    def replies(self) -> list[ReplyView]:
        return list(self.query(ReplyView))

    async def _mount_earlier(self) -> None:
        if self._first_mounted == 0:
            return
        start = max(0, self._first_mounted - WINDOW)
        earlier = [self._widget_for(m) for m in self._messages[start : self._first_mounted]]
        self._first_mounted = start
        first = self.children[0] if self.children else None
        await self.mount_all(earlier, before=first)
        if first is not None:
            self.scroll_to_widget(first, animate=False, top=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 0 and old > 0:
            self.run_worker(self._mount_earlier(), group="history", exclusive=True)
