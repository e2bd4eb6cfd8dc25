"""The main screen: chat list, conversation, activity pane and prompt.

The runtime (pipe loading, model listing) is imported and started in a worker
after the first frame, so start-up costs only Textual and SQLite.

Small terminals hide the side panes so the conversation keeps its room: the chat list
below NARROW columns, the activity pane below SHORT rows. f2/f3 still show them (for this
session, while the terminal stays that small); the stored preference is for larger terminals.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header

from tuichat.store import ChatRow, MessageRow, Store
from tuichat.ui.widgets.activity import NO_EVENTS, ActivityPane
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.conversation import Conversation, UserMessage
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.widgets.reply import ReplyView

if TYPE_CHECKING:
    from tuichat.runtime.host import ModelListing, PipeHost
    from tuichat.runtime.reply.model import ActivityEntry
    from tuichat.runtime.turn import Turn

LAST_MODEL = "last_model"
ACTIVITY_OPEN = "activity_open"
SIDEBAR_OPEN = "sidebar_open"
NARROW = 100  # columns: a narrower terminal hides the chat list (28 columns) unless f2 shows it
SHORT = 30  # rows: a shorter terminal hides the activity pane (8 rows) unless f3 shows it
# pane -> (the screen class that hides it, its stored setting)
PANES = {"sidebar": ("-no-sidebar", SIDEBAR_OPEN), "activity": ("-no-activity", ACTIVITY_OPEN)}
WARM_LANGUAGES = ("python", "bash", "json", "javascript")  # the fences replies use most


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
    ChatScreen.-short ActivityPane {
        height: 6;
    }
    /* Without colour the focused pane's border would look like the others: a heavier one. */
    ChatScreen ChatList:nocolor:focus, ChatScreen ActivityPane:nocolor:focus, ChatScreen Prompt:nocolor:focus {
        border: heavy $border;
    }
    ChatScreen Conversation:nocolor:focus {
        outline-left: heavy $border;  /* drawn over its left padding: the layout stays */
    }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop", id="reply.stop"),
        Binding("ctrl+o", "pick_model", "Model", id="model.pick"),
        Binding("ctrl+n", "new_chat", "New chat", id="chat.new"),
        Binding("ctrl+r", "rename_chat", "Rename", id="chat.rename", show=False),
        Binding("f8", "delete_chat", "Delete", id="chat.delete", show=False),
        Binding("f2", "toggle_sidebar", "Chats", id="view.sidebar"),
        Binding("f3", "toggle_activity", "Activity", id="view.activity"),
        Binding("f5", "copy_reply", "Copy reply", id="reply.copy", show=False),
        Binding("ctrl+f", "search", "Search", id="chat.search"),
        Binding("ctrl+g", "regenerate", "Regenerate", id="reply.regenerate", show=False),
        Binding("ctrl+l", "edit_last", "Edit last", id="message.edit", show=False),
        Binding("f4", "system_prompt", "System prompt", id="chat.system_prompt", show=False),
        Binding("ctrl+t", "toggle_stream", "Stream on/off", id="chat.stream", show=False),
        Binding("f9", "export", "Export", id="chat.export", show=False),
        Binding("ctrl+up", "select_reply(-1)", "Older reply", id="reply.previous", show=False),
        Binding("ctrl+down", "select_reply(1)", "Newer reply", id="reply.next", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.host: PipeHost | None = None
        self.listing: ModelListing | None = None
        self.chat: ChatRow | None = None
        self.model_id: str | None = None
        self.turn: Turn | None = None
        self._dialog: ModalScreen[Any] | None = None
        self._selected_reply: ReplyView | None = None
        # Settings chosen before the first message creates the chat.
        self._new_system: str | None = None
        self._new_stream = True
        # Titles a pipe set with `chat:title`: shown for this session, never stored (spec §8).
        self._shown_titles: dict[str, str] = {}
        # Pane layout: the stored preferences, and f2/f3 choices made while the terminal is small.
        self._pane_prefs = {pane: True for pane in PANES}
        self._pane_choices: dict[str, bool] = {}
        self._compact: dict[str, bool] = {}

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined,no-any-return]

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
        for pane, (_, setting) in PANES.items():
            self._pane_prefs[pane] = bool(await self.store.settings.get(setting, True))
        self._layout_panes()
        self.model_id = await self.store.settings.get(LAST_MODEL)
        self.query_one(Conversation).model_names = self._model_name
        await self._refresh_chats()
        self._show_title()
        self.query_one(Prompt).focus()
        # After the first frame: importing the runtime (pydantic, packaging) costs ~90 ms.
        self.call_after_refresh(self._start_runtime)

    # -- runtime, started after the first frame ------------------------------------------
    @work(group="runtime", exclusive=True)
    async def _start_runtime(self) -> None:
        from tuichat.ui.app import TuichatApp

        app = self.app
        assert isinstance(app, TuichatApp)
        self.host = (await app.runtime()).host
        app.functions_changed.subscribe(self, self._functions_changed)
        await self._refresh_models()
        self._warm_highlighting()

    @work(thread=True, group="warm", exit_on_error=False)
    def _warm_highlighting(self) -> None:
        """Pygments loads a lexer (and compiles its rules) on the first fence of its language,
        which stalled a streaming reply: do it now, in a thread, once the app is up."""
        from textual.highlight import highlight

        for language in WARM_LANGUAGES:
            highlight("x = 1\n", language=language)

    async def _functions_changed(self, function_id: str) -> None:
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
        chat = self.chat
        self.title = self._shown_titles.get(chat.id, chat.title) if chat else "New chat"
        self.sub_title = self._model_name(self.model_id) or "no model: ctrl+o"

    # -- chats ---------------------------------------------------------------------------
    async def _refresh_chats(self) -> None:
        chats = await self.store.chats.list()
        self.query_one(ChatList).show_chats(chats, self.chat.id if self.chat else None, self._shown_titles)

    def _set_shown_title(self, chat_id: str, title: str) -> None:
        """A pipe's `chat:title`: the header and the chat list show it, as Open WebUI's UI does;
        the stored title stays (Open WebUI's emitter does not save it either)."""
        self._shown_titles[chat_id] = title
        self.query_one(ChatList).set_title(chat_id, title)
        if self.chat is not None and self.chat.id == chat_id:
            self._show_title()

    async def _renamed(self, chat: ChatRow) -> None:
        """A stored rename (by the user or a generated title) replaces a pipe's shown title."""
        self._shown_titles.pop(chat.id, None)
        if self.chat is not None and self.chat.id == chat.id:
            self.chat = chat
            self._show_title()
        await self._refresh_chats()

    @on(ChatList.Opened)
    async def _open_chat(self, event: ChatList.Opened) -> None:
        await self.open_chat(event.chat_id)

    async def open_chat(self, chat_id: str | None) -> None:
        if self.turn is not None:
            self.notify("A reply is still streaming: press Escape to stop it first.", severity="warning")
            return
        self.chat = await self.store.chats.get(chat_id) if chat_id else None
        self._new_system, self._new_stream = None, True
        messages = await self.store.chats.messages(chat_id) if chat_id else []
        if self.chat is not None and self.chat.model_id:
            self.model_id = self.chat.model_id
        await self.query_one(Conversation).show(messages)
        chats = self.query_one(ChatList)
        if self.chat is not None:  # also when opened from search or after a delete
            chats.select(self.chat.id)
        else:
            chats.highlighted = None
        replies = self.query_one(Conversation).replies()
        if replies:
            await self._select_reply(replies[-1])
        else:
            self._selected_reply = None
            self.query_one(ActivityPane).show([], NO_EVENTS)
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
                await self._renamed(await self.store.chats.rename(chat.id, title.strip()))

        self.app.push_screen(TextPromptScreen("Rename chat", self._shown_titles.get(chat.id, chat.title)), rename)

    def action_delete_chat(self) -> None:
        from tuichat.ui.screens.prompts import ConfirmScreen

        chat = self.chat
        if chat is None or self.turn is not None:
            return
        name = self._shown_titles.get(chat.id, chat.title)  # the title on screen

        async def delete(sure: bool | None) -> None:
            if sure:
                await self.store.chats.delete(chat.id)
                self._shown_titles.pop(chat.id, None)
                await self._refresh_chats()
                await self.open_chat(None)
                self.notify(f"Deleted “{name}”")

        self.app.push_screen(ConfirmScreen(f"Delete the chat “{name}”? This cannot be undone."), delete)

    async def action_toggle_sidebar(self) -> None:
        await self._toggle_pane("sidebar")

    async def action_toggle_activity(self) -> None:
        await self._toggle_pane("activity")

    # -- pane layout ---------------------------------------------------------------------
    def _is_compact(self, pane: str) -> bool:
        width, height = self.app.size
        return width < NARROW if pane == "sidebar" else height < SHORT

    def _layout_panes(self) -> None:
        """Show each pane as stored, except in a small terminal: hidden there unless f2/f3
        showed it. A choice made while small lasts until the terminal stops being small."""
        for pane, (hidden_class, _) in PANES.items():
            compact = self._is_compact(pane)
            if compact != self._compact.get(pane, compact):
                self._pane_choices.pop(pane, None)
            self._compact[pane] = compact
            shown = self._pane_choices.get(pane, False) if compact else self._pane_prefs[pane]
            self.set_class(not shown, hidden_class)
        self.set_class(self._is_compact("activity"), "-short")

    async def _toggle_pane(self, pane: str) -> None:
        hidden_class, setting = PANES[pane]
        shown = self.has_class(hidden_class)  # it is hidden now: show it
        if self._is_compact(pane):
            self._pane_choices[pane] = shown  # only for now: the stored choice is for larger terminals
        else:
            self._pane_prefs[pane] = shown
            await self.store.settings.set(setting, shown)
        self._layout_panes()

    def on_resize(self, event: events.Resize) -> None:
        self._layout_panes()

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
    @on(Prompt.Page)
    def _page(self, event: Prompt.Page) -> None:
        conversation = self.query_one(Conversation)
        (conversation.scroll_page_up if event.direction < 0 else conversation.scroll_page_down)()

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
    async def _reply(self, text: str, again: MessageRow | None = None) -> None:
        from tuichat.runtime.errors import RuntimeErrorBase
        from tuichat.runtime.turn import Turn

        assert self.host is not None and self.model_id is not None
        new_chat = self.chat is None
        turn = Turn(
            self.host,
            self.model_id,
            text,
            chat_id=self.chat.id if self.chat else None,
            system=self._new_system if new_chat else None,
            stream=self.chat.stream if self.chat else self._new_stream,
            event_call=self._ask,
            again=again,
        )
        try:
            await turn.prepare()
        except (RuntimeErrorBase, LookupError) as error:
            self.notify(str(error), severity="error", timeout=10)
            if again is None:
                self.query_one(Prompt).text = text
            return
        self.turn = turn
        self.refresh_bindings()
        conversation = self.query_one(Conversation)
        if new_chat:
            self.chat = turn.context.chat
            await self._refresh_chats()
            self._show_title()
        chat_id = turn.context.chat.id if turn.context.chat else None
        if again is None:
            await conversation.add(UserMessage(text, turn.context.user_message.id if turn.context.user_message else None))
        view = ReplyView(None, model_name=self._model_name(self.model_id), streaming=True)
        view.message_id = turn.context.reply_message.id if turn.context.reply_message else None
        await conversation.add(view)
        await self._select_reply(view)
        activity = self.query_one(ActivityPane)
        try:
            async with aclosing(turn.run()) as updates:
                async for update in updates:
                    view.apply(update)
                    if update.event is not None:
                        if self._selected_reply is view:
                            activity.add(update.event)
                        self._on_entry(chat_id, update.event)
        finally:
            self._close_dialog()
            if turn.finished is not None:
                await view.finish(turn.finished)
            self.turn = None
            self.refresh_bindings()
            await self._refresh_chats()
        if new_chat and turn.finished is not None and turn.finished.reply.status == "done":
            self._name_chat(turn)

    @work(group="title")
    async def _name_chat(self, turn: Turn) -> None:
        """Titles come from the chat's own pipe, as Open WebUI asks for them (spec §10.3)."""
        from tuichat.runtime.titles import generate_title, task_messages

        chat, host = turn.context.chat, self.host
        if chat is None or host is None:
            return
        messages = task_messages(await self.store.chats.messages(chat.id))
        title = await generate_title(host, chat.id, turn.model_id, messages)
        if title:
            await self._renamed(await self.store.chats.rename(chat.id, title))

    def _on_entry(self, chat_id: str | None, entry: ActivityEntry) -> None:
        """Notifications also show as toasts, and `chat:title` in the header, as in Open WebUI."""
        from tuichat.runtime.reply.present import notification_of, title_of

        notification = notification_of(entry)
        if notification is not None:
            self.notify(notification.text, severity=notification.severity)
        title = title_of(entry)
        if title is not None and chat_id is not None:
            self._set_shown_title(chat_id, title)

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop is offered (and shown in the footer) only while a reply streams."""
        if action == "stop":
            return self.turn is not None
        return True

    def action_stop(self) -> None:
        if self.turn is not None:
            self.turn.cancel()
            self._close_dialog()

    # -- regenerate, edit, search, export, chat settings ----------------------------------
    async def _last_exchange(self) -> tuple[MessageRow, MessageRow | None] | None:
        """The chat's last user message and the reply after it, if any."""
        if self.chat is None:
            return None
        messages = await self.store.chats.messages(self.chat.id)
        users = [i for i, m in enumerate(messages) if m.role == "user"]
        if not users:
            return None
        last = users[-1]
        return messages[last], messages[last + 1] if last + 1 < len(messages) else None

    async def _answer_again(self, user_message: MessageRow) -> None:
        assert self.chat is not None
        await self.store.chats.delete_messages_after(user_message.id)
        await self.open_chat(self.chat.id)
        self._reply(user_message.content, again=user_message)

    async def action_regenerate(self) -> None:
        exchange = await self._last_exchange() if self.turn is None and self.host else None
        if exchange is None:
            self.notify("Nothing to regenerate yet.")
            return
        await self._answer_again(exchange[0])

    async def action_edit_last(self) -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        exchange = await self._last_exchange() if self.turn is None and self.host else None
        if exchange is None:
            self.notify("No message to edit yet.")
            return
        user_message = exchange[0]

        async def resend(text: str | None) -> None:
            if text is None or not text.strip() or text == user_message.content:
                return
            edited = await self.store.chats.update_message_content(user_message.id, text)
            await self._answer_again(edited)

        self.app.push_screen(
            TextPromptScreen("Edit and resend", user_message.content, multiline=True, allow_empty=False), resend
        )

    def action_search(self) -> None:
        from tuichat.ui.screens.search import SearchScreen

        async def opened(chat_id: str | None) -> None:
            if chat_id is not None:
                await self.open_chat(chat_id)

        self.app.push_screen(SearchScreen(), opened)

    def action_export(self) -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        chat = self.chat
        if chat is None:
            self.notify("Nothing to export yet.")
            return

        async def export(path: str | None) -> None:
            if path and path.strip():
                await self._export(chat, path.strip())

        default = "".join(c if c.isalnum() else "-" for c in chat.title.lower()).strip("-")[:40] or "chat"
        self.app.push_screen(
            TextPromptScreen("Export chat (.md for Markdown, .json for everything)", f"{default}.md"), export
        )

    async def _export(self, chat: ChatRow, path: str) -> None:
        import json
        from pathlib import Path

        from tuichat.runtime.export import chat_to_json, chat_to_markdown

        messages = await self.store.chats.messages(chat.id)
        target = Path(path).expanduser()
        if target.suffix.lower() == ".json":
            events = {m.id: await self.store.chats.events(m.id) for m in messages}
            text = json.dumps(chat_to_json(chat, messages, events), ensure_ascii=False, indent=2)
        else:
            text = chat_to_markdown(chat, messages)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            self.notify(f"Could not write {target}: {error.strerror}. Pick another path.", severity="error", timeout=10)
            return
        self.notify(f"Exported to {target.resolve()}")

    def action_system_prompt(self) -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        current = self.chat.system_prompt if self.chat else self._new_system

        async def save(text: str | None) -> None:
            if text is None:
                return
            value = text.strip() or None
            if self.chat is None:
                self._new_system = value
            else:
                self.chat = await self.store.chats.update(self.chat.id, system_prompt=value)
            self.notify("System prompt set." if value else "System prompt removed.")

        self.app.push_screen(
            TextPromptScreen("System prompt for this chat", current or "", multiline=True, placeholder="None"), save
        )

    async def action_toggle_stream(self) -> None:
        if self.chat is None:
            self._new_stream = not self._new_stream
            stream = self._new_stream
        else:
            self.chat = await self.store.chats.update(self.chat.id, stream=not self.chat.stream)
            stream = self.chat.stream
        self.notify("Replies stream in this chat." if stream else "Replies arrive whole in this chat (stream off).")

    # -- replies -------------------------------------------------------------------------
    async def _select_reply(self, view: ReplyView) -> None:
        from tuichat.runtime.reply.model import activity_from_records

        if self._selected_reply is not None:
            self._selected_reply.remove_class("-selected")
        self._selected_reply = view
        view.add_class("-selected")
        activity = self.query_one(ActivityPane)
        message_id = view.message_id
        if view.streaming and self.turn is not None:
            activity.show(list(self.turn.builder.activity))
        elif view.reply.activity:
            activity.show(view.reply.activity)
        elif message_id is not None:
            activity.show(activity_from_records(await self.store.chats.events(message_id)))
        else:
            activity.show([])

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



