"""The main screen: chat list, conversation, activity pane and prompt.

The runtime (pipe loading, model listing) is imported and started in a worker
after the first frame, so start-up costs only Textual and SQLite.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header

from tuichat.store import ChatRow, Store
from tuichat.ui.widgets.activity import ActivityPane
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.conversation import Conversation, UserMessage
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.widgets.reply import ReplyView

if TYPE_CHECKING:
    from tuichat.runtime.host import ModelListing, PipeHost
    from tuichat.runtime.turn import Turn

LAST_MODEL = "last_model"
ACTIVITY_OPEN = "activity_open"
SIDEBAR_OPEN = "sidebar_open"


class ChatScreen(Screen[None]):
    DEFAULT_CSS = """
    ChatScreen #main {
        width: 1fr;
    }
    ChatScreen.-no-sidebar ChatList {
        display: none;
    }
    ChatScreen.-no-activity ActivityPane {
        display: none;
    }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop", id="reply.stop", show=False),
        Binding("ctrl+o", "pick_model", "Model", id="model.pick"),
        Binding("ctrl+n", "new_chat", "New chat", id="chat.new"),
        Binding("ctrl+r", "rename_chat", "Rename", id="chat.rename"),
        Binding("f8", "delete_chat", "Delete", id="chat.delete"),
        Binding("f2", "toggle_sidebar", "Chats", id="view.sidebar"),
        Binding("f3", "toggle_activity", "Activity", id="view.activity"),
        Binding("f5", "copy_reply", "Copy reply", id="reply.copy"),
        Binding("ctrl+up", "select_reply(-1)", "Older reply", id="reply.previous", show=False),
        Binding("ctrl+down", "select_reply(1)", "Newer reply", id="reply.next", show=False),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.host: PipeHost | None = None
        self.listing: ModelListing | None = None
        self.chat: ChatRow | None = None
        self.model_id: str | None = None
        self.turn: Turn | None = None
        self._dialog: ModalScreen[Any] | None = None
        self._selected_reply: ReplyView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ChatList(id="chats")
            with Vertical(id="main"):
                yield Conversation(id="conversation")
                yield ActivityPane(id="activity")
                yield Prompt(id="prompt")
        yield Footer()

    async def on_mount(self) -> None:
        self.set_class(not await self.store.settings.get(SIDEBAR_OPEN, True), "-no-sidebar")
        self.set_class(not await self.store.settings.get(ACTIVITY_OPEN, True), "-no-activity")
        self.model_id = await self.store.settings.get(LAST_MODEL)
        self.query_one(Conversation).model_names = self._model_name
        await self._refresh_chats()
        self._show_title()
        self.query_one(Prompt).focus()
        self._start_runtime()

    # -- runtime, started after the first frame ------------------------------------------
    @work(group="runtime", exclusive=True)
    async def _start_runtime(self) -> None:
        from tuichat.runtime.host import PipeHost
        from tuichat.runtime.library import FunctionLibrary

        host = PipeHost(self.store)
        await FunctionLibrary(host).seed_examples()
        self.host = host
        await self._refresh_models()

    async def _refresh_models(self) -> None:
        if self.host is None:
            return
        self.listing = await self.host.list_models()
        picker = self._open_picker()
        if picker is not None:
            picker.set_listing(self.listing)
        if self.model_id is None and self.listing.models:
            self.model_id = self.listing.models[0]["id"]
        self._show_title()

    def _open_picker(self) -> Any:
        from tuichat.ui.screens.model_picker import ModelPicker

        return next((s for s in self.app.screen_stack if isinstance(s, ModelPicker)), None)

    def _model_name(self, model_id: str | None) -> str:
        if model_id and self.listing is not None:
            model = self.listing.by_id().get(model_id)
            if model is not None:
                return str(model["name"])
        return model_id or ""

    def _show_title(self) -> None:
        self.title = self.chat.title if self.chat else "New chat"
        self.sub_title = self._model_name(self.model_id) or "no model: ctrl+o"

    # -- chats ---------------------------------------------------------------------------
    async def _refresh_chats(self) -> None:
        self.query_one(ChatList).show_chats(await self.store.chats.list(), self.chat.id if self.chat else None)

    @on(ChatList.Opened)
    async def _open_chat(self, event: ChatList.Opened) -> None:
        await self.open_chat(event.chat_id)

    async def open_chat(self, chat_id: str | None) -> None:
        if self.turn is not None:
            self.notify("A reply is still streaming: press Escape to stop it first.", severity="warning")
            return
        self.chat = await self.store.chats.get(chat_id) if chat_id else None
        messages = await self.store.chats.messages(chat_id) if chat_id else []
        if self.chat is not None and self.chat.model_id:
            self.model_id = self.chat.model_id
        await self.query_one(Conversation).show(messages)
        self.query_one(ActivityPane).clear()
        replies = self.query_one(Conversation).replies()
        if replies:
            await self._select_reply(replies[-1])
        self._show_title()
        self.query_one(Prompt).focus()

    def action_new_chat(self) -> None:
        self.run_worker(self.open_chat(None), group="open", exclusive=True)

    def action_rename_chat(self) -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        chat = self.chat
        if chat is None:
            self.notify("This chat is not saved yet: send a message first.")
            return

        async def rename(title: str | None) -> None:
            if title and title.strip():
                self.chat = await self.store.chats.rename(chat.id, title.strip())
                await self._refresh_chats()
                self._show_title()

        self.app.push_screen(TextPromptScreen("Rename chat", chat.title), rename)

    def action_delete_chat(self) -> None:
        from tuichat.ui.screens.prompts import ConfirmScreen

        chat = self.chat
        if chat is None or self.turn is not None:
            return

        async def delete(sure: bool | None) -> None:
            if sure:
                await self.store.chats.delete(chat.id)
                await self._refresh_chats()
                await self.open_chat(None)
                self.notify(f"Deleted “{chat.title}”")

        self.app.push_screen(ConfirmScreen(f"Delete the chat “{chat.title}”? This cannot be undone."), delete)

    async def action_toggle_sidebar(self) -> None:
        self.toggle_class("-no-sidebar")
        await self.store.settings.set(SIDEBAR_OPEN, not self.has_class("-no-sidebar"))

    async def action_toggle_activity(self) -> None:
        self.toggle_class("-no-activity")
        await self.store.settings.set(ACTIVITY_OPEN, not self.has_class("-no-activity"))

    # -- models --------------------------------------------------------------------------
    def action_pick_model(self) -> None:
        from tuichat.ui.screens.model_picker import ModelPicker

        async def chosen(model_id: str | None) -> None:
            if model_id is None:
                return
            self.model_id = model_id
            await self.store.settings.set(LAST_MODEL, model_id)
            if self.chat is not None:
                self.chat = await self.store.chats.update(self.chat.id, model_id=model_id)
            self._show_title()

        self.app.push_screen(ModelPicker(self.listing, self.model_id, loading=self.listing is None), chosen)

    # -- sending and streaming -----------------------------------------------------------
    @on(Prompt.Submitted)
    def _send(self, event: Prompt.Submitted) -> None:
        if self.turn is not None:
            self.notify("Wait for the reply, or press Escape to stop it.", severity="warning")
            return
        if self.host is None:
            self.notify("Still loading pipes, one moment…")
            return
        if self.model_id is None:
            self.action_pick_model()
            return
        event.prompt.clear()
        self._reply(event.text)

    @work(group="reply", exclusive=True)
    async def _reply(self, text: str) -> None:
        from tuichat.runtime.errors import RuntimeErrorBase
        from tuichat.runtime.turn import Turn

        assert self.host is not None and self.model_id is not None
        turn = Turn(self.host, self.model_id, text, chat_id=self.chat.id if self.chat else None, event_call=self._ask)
        try:
            await turn.prepare()
        except RuntimeErrorBase as error:
            self.notify(str(error), severity="error", timeout=10)
            self.query_one(Prompt).text = text
            return
        self.turn = turn
        conversation = self.query_one(Conversation)
        if self.chat is None:
            self.chat = turn.context.chat
            await self._refresh_chats()
            self._show_title()
        await conversation.add(UserMessage(text, turn.context.user_message.id if turn.context.user_message else None))
        view = ReplyView(None, model_name=self._model_name(self.model_id), streaming=True)
        view.message_id = turn.context.reply_message.id if turn.context.reply_message else None  # type: ignore[attr-defined]
        await conversation.add(view)
        await self._select_reply(view)
        activity = self.query_one(ActivityPane)
        try:
            async for _step, update in turn.run():
                view.apply(update, turn.reply)
                if update.event is not None:
                    activity.add(update.event)
                    self._toast(update.event)
        finally:
            self._close_dialog()
            await view.finish(turn.reply)
            self.turn = None
            await self._refresh_chats()

    def _toast(self, entry: Any) -> None:
        """Notifications also show as toasts, as in Open WebUI."""
        data = entry.data if entry.kind == "event" and isinstance(entry.data, dict) else {}
        if data.get("type") == "notification" and isinstance(data.get("data"), dict):
            body = data["data"]
            kind = body.get("type", "info")
            severity = "error" if kind == "error" else "warning" if kind == "warning" else "information"
            self.notify(str(body.get("content", "")), severity=severity)

    async def _ask(self, event: dict[str, Any]) -> Any:
        """Answers `__event_call__` with a dialog; the pipe gets what Open WebUI would return."""
        from tuichat.ui.screens.event_call import dialog_for

        dialog = dialog_for(event)
        if dialog is None:
            return {"error": f"tuichat cannot answer a '{event.get('type')}' event call"}
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(result: Any) -> None:
            if not answer.done():
                answer.set_result(result)

        self._dialog = dialog
        self.app.push_screen(dialog, done)
        try:
            return await answer
        finally:
            self._dialog = None

    def _close_dialog(self) -> None:
        dialog = self._dialog
        if dialog is not None and dialog.is_attached:
            dialog.dismiss(False)

    def action_stop(self) -> None:
        if self.turn is not None:
            self.turn.cancel()
            self._close_dialog()

    # -- replies -------------------------------------------------------------------------
    async def _select_reply(self, view: ReplyView) -> None:
        from tuichat.runtime.history import activity_of

        if self._selected_reply is not None:
            self._selected_reply.remove_class("-selected")
        self._selected_reply = view
        view.add_class("-selected")
        activity = self.query_one(ActivityPane)
        message_id = getattr(view, "message_id", None)
        if view.reply is not None and view.reply.activity:
            activity.show(view.reply.activity)
        elif message_id is not None:
            activity.show(activity_of(await self.store.chats.events(message_id)))
        else:
            activity.clear()

    async def action_select_reply(self, step: int) -> None:
        replies = self.query_one(Conversation).replies()
        if not replies:
            return
        index = replies.index(self._selected_reply) if self._selected_reply in replies else len(replies)
        view = replies[max(0, min(len(replies) - 1, index + step))]
        await self._select_reply(view)
        view.scroll_visible()

    def action_copy_reply(self) -> None:
        view = self._selected_reply
        if view is None or view.reply is None or not view.reply.content:
            self.notify("No reply to copy.")
            return
        self.app.copy_to_clipboard(view.reply.content)
        self.notify("Reply copied (OSC 52).")
