"""The main screen: it composes the chat list, conversation, activity pane and prompt, holds
the open chat's state and routes messages; replies and commands live beside it (see the
package). The runtime (pipe loading, model listing) is started after the first frame, so
start-up costs only Textual and SQLite.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive, var
from textual.screen import Screen
from textual.widgets import Header, TextArea
from textual.worker import Worker, WorkerState

from tuichat.runtime.untrusted import neutralise
from tuichat.store import ChatRow, Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.chat.attachments import ChatAttachments
from tuichat.ui.chat.commands import ChatCommands
from tuichat.ui.chat.drafts import PromptDrafts
from tuichat.ui.chat.panes import Panes
from tuichat.ui.chat.replies import Replies
from tuichat.ui.chat.settings import ChatSettings
from tuichat.ui.widgets.activity import NO_EVENTS, ActivityPane
from tuichat.ui.widgets.attachment_chips import AttachmentChips
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.footer import Footer
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.widgets.reply import ReplyView

if TYPE_CHECKING:
    from tuichat.runtime.host import ModelListing
    from tuichat.runtime.services import Services
    from tuichat.runtime.turn import Turn

log = logging.getLogger(__name__)

LAST_MODEL = "last_model"
LAST_CHAT = "last_chat"  # the chat open when the app last ran: opened again on start
WARM_LANGUAGES = ("python", "bash", "json", "javascript")  # the fences replies use most
# After the first frame is painted: importing and starting the runtime (pydantic, the loader,
# the examples) takes ~0.2 s of the interpreter, which would otherwise hold up the frame.
RUNTIME_DELAY = 0.15
# Actions that need a chat with messages, or no reply streaming, to mean anything.
NEEDS_CHAT = frozenset({"rename_chat", "delete_chat", "export"})
NOT_WHILE_STREAMING = frozenset({"regenerate", "edit_last", "delete_chat"})


@dataclass
class NewChatSettings:
    """What is chosen before the first message creates the chat."""

    system: str | None = None
    stream: bool = True
    filter_ids: list[str] = field(default_factory=list)  # toggles (F10)
    tool_ids: list[str] = field(default_factory=list)  # tools (F10)
    params: dict[str, Any] = field(default_factory=dict)  # chat params (F12)


class ChatScreen(Replies, ChatAttachments, ChatCommands, ChatSettings, Screen[None]):
    CSS_PATH = str(Path(__file__).with_name("chat_screen.tcss"))

    app = getters.app(TuichatApp)

    BINDINGS = [
        # The app's F1 (same id, so a keymap moves both): listed here, it leads the footer.
        Binding("f1", "app.help", "Help", id="app.help"),
        Binding("escape", "stop", "Stop", id="reply.stop"),
        Binding("ctrl+o", "pick_model", "Model", id="model.pick"),
        Binding("ctrl+n", "new_chat", "New chat", id="chat.new"),
        # F1-F10 and the free ctrl letters are taken (ctrl+a is the prompt's line start); a
        # terminal that sends no alt still has the command palette's "Attach", or a keymap.
        # priority: the prompt would type the "a" of alt+a.
        Binding("alt+a", "attach", "Attach", id="chat.attach", priority=True, tooltip="a file or image to the next message"),
        # The message cursor and what it copies: in the footer (one entry for both arrows).
        Binding("ctrl+up", "select_message(-1)", "Select", id="reply.previous", key_display="^↑↓",
                tooltip="an older message; ctrl+down a newer one"),
        Binding("ctrl+down", "select_message(1)", "Select a newer message", id="reply.next", show=False),
        Binding("f5", "copy_message", "Copy", id="reply.copy", tooltip="the selected message or a code block"),
        Binding("ctrl+r", "rename_chat", "Rename", id="chat.rename", show=False),
        Binding("f8", "delete_chat", "Delete", id="chat.delete", show=False),
        Binding("f2", "toggle_sidebar", "Chats", id="view.sidebar"),
        Binding("f3", "toggle_activity", "Activity", id="view.activity"),
        # priority: the prompt (a TextArea) would take f6 to select a line.
        Binding("f6", "activity_filter", "Filter", id="view.activity_filter", priority=True,
                tooltip="Activity: all, events, output or logs"),
        Binding("ctrl+f", "search", "Search", id="chat.search"),
        # After Search: the footer is cut from the right at 80 columns.
        Binding("ctrl+b", "follow_ups", "Follow-ups", id="reply.follow_ups"),
        Binding("ctrl+g", "regenerate", "Regenerate", id="reply.regenerate", show=False),
        Binding("ctrl+l", "edit_last", "Edit last", id="message.edit", show=False),
        Binding("f4", "system_prompt", "System prompt", id="chat.system_prompt", show=False),
        Binding("ctrl+t", "toggle_stream", "Stream on/off", id="chat.stream", show=False),
        Binding("f10", "toggles", "Toggles", id="chat.toggles", show=False),
        Binding("f12", "chat_params", "Params", id="chat.params", show=False),
        Binding("f9", "export", "Export", id="chat.export", show=False),
        Binding("alt+left", "version(-1)", "Earlier version", id="reply.version_previous", show=False),
        Binding("alt+right", "version(1)", "Later version", id="reply.version_next", show=False),
    ]

    chat: reactive[ChatRow | None] = reactive(None, bindings=True, init=False)
    model_id: reactive[str | None] = reactive(None, init=False)
    streaming: reactive[bool] = reactive(False, bindings=True, init=False)
    listing: var[ModelListing | None] = var(None, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.turn: Turn | None = None
        self.new_chat_settings = NewChatSettings()
        # Titles a pipe set with `chat:title`: shown for this session, never stored (spec §8).
        self.shown_titles: dict[str, str] = {}
        self.panes = Panes()
        self.drafts: PromptDrafts | None = None  # the prompt's text kept per chat, once mounted
        self._parked = {}  # pending attachments of the chats not shown (ChatAttachments)

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def services(self) -> Services | None:
        return self.app.services

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ChatList(id="chats")
            with Vertical(id="main"):
                yield Conversation(id="conversation")
                yield ActivityPane(id="activity")
                yield AttachmentChips(id="attachments")
                yield Prompt(id="prompt")
        yield Footer()

    async def on_mount(self) -> None:
        await self.panes.load(self.store)
        self._layout_panes()
        self.model_id = await self.store.settings.get(LAST_MODEL)
        self.query_one(Conversation).model_names = self.model_name
        self.query_one(ChatList).model_names = self.model_name
        await self.refresh_chats()
        self._show_title()
        prompt = self.query_one(Prompt)
        self.drafts = PromptDrafts(prompt, self.store.drafts)
        last = None if self.app.fresh else await self.store.settings.get(LAST_CHAT)
        if isinstance(last, str) and await self.store.chats.get(last) is not None:
            await self.open_chat(last)
        else:
            await self.drafts.show(None)
        prompt.focus()
        self.call_after_refresh(self.set_timer, RUNTIME_DELAY, self._start_runtime)

    # -- state shown in the header and footer ----------------------------------------------
    def watch_chat(self, old: ChatRow | None, new: ChatRow | None) -> None:
        self._show_title()
        if self.chat is not None and self.drafts is not None:  # a first message may have created it
            self.run_worker(self.drafts.created(self.chat.id), group="drafts", exit_on_error=False)
        if (old.id if old else None) != (new.id if new else None):  # reopened on the next start
            self.run_worker(self.store.settings.set(LAST_CHAT, new.id if new else None), group="last-chat", exit_on_error=False)

    def watch_model_id(self) -> None:
        self._show_title()

    def watch_listing(self) -> None:
        self._show_title()

    def _show_title(self) -> None:
        self.title = self.shown_title(self.chat) if self.chat else "New chat"
        model = neutralise(self.model_name(self.model_id)) or "no model: ctrl+o"  # from `pipes()`
        self.sub_title = self.header_subtitle(model, self.title)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer and the command palette offer only what applies now."""
        if action == "stop":
            return self.streaming
        if action == "activity_filter":  # the footer's room goes to what is on screen
            return not self.has_class("-no-activity")
        if action == "version":
            return self.version_target() is not None and not self.streaming
        if action == "follow_ups":
            return self.follow_up_reply() is not None and not self.streaming
        if action in NOT_WHILE_STREAMING and self.streaming:
            return False
        if action in NEEDS_CHAT:
            return self.chat is not None
        return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place for a worker's unexpected error: said on screen, the app stays up."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(f"{type(error).__name__}: {error}", title="Something went wrong", severity="error", timeout=15)

    # -- runtime, started after the first frame ------------------------------------------
    @work(group="runtime", exclusive=True, exit_on_error=False)
    async def _start_runtime(self) -> None:
        await self.app.runtime()
        self.app.functions_changed.subscribe(self, self._functions_changed)
        await self._refresh_models()
        self._select_watched()
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

    async def _refresh_models(self, *, changed_only: bool = False) -> None:
        if self.services is None:
            return
        before = self.listing
        self.listing = listing = await self.services.host.list_models()
        picker = self._open_picker()
        # An unchanged list is not shown again: that would move the cursor under the user's hands.
        if picker is not None and not (changed_only and before is not None and before.models == listing.models):
            picker.set_listing(listing)
        if self.model_id is None and listing.models:
            self.model_id = listing.models[0]["id"]
        await self.refresh_chats()  # the list names each chat's model, and so do the replies shown
        self.query_one(Conversation).name_models()

    def _select_watched(self) -> None:
        """`tuichat --watch FILE.py` is for trying that pipe: the new chat talks to it (a manifold:
        its first model; one that does not load: its id, so sending says why)."""
        if not self.app.watched_ids or self.chat is not None:
            return
        fid = self.app.watched_ids[0]
        models = [m["id"] for m in self.listing.models] if self.listing is not None else []
        self.model_id = next((m for m in models if m == fid or m.startswith(f"{fid}.")), fid)

    def _open_picker(self) -> Any:
        from tuichat.ui.screens.model_picker import ModelPicker

        return next((s for s in self.app.screen_stack if isinstance(s, ModelPicker)), None)

    def model_name(self, model_id: str | None) -> str:
        if model_id and self.listing is not None:
            model = self.listing.by_id().get(model_id)
            if model is not None:
                return str(model["name"])
        return model_id or ""

    def action_pick_model(self) -> None:
        from tuichat.ui.screens.model_picker import ModelPicker

        async def chosen(model_id: str | None) -> None:
            if model_id is None:
                return
            self.model_id = model_id
            await self.store.settings.set(LAST_MODEL, model_id)
            if self.chat is not None:
                self.chat = await self.store.chats.update(self.chat.id, model_id=model_id)

        self.app.push_screen(ModelPicker(self.listing, self.model_id, loading=self.listing is None), chosen)
        if self.listing is not None:
            # A model server started (or a model pulled) since the last list shows up now.
            self.run_worker(self._refresh_models(changed_only=True), group="relist", exclusive=True, exit_on_error=False)

    # -- chats ---------------------------------------------------------------------------
    def shown_title(self, chat: ChatRow) -> str:
        """The title on screen: a pipe's `chat:title` for this session, else the stored one.
        A pipe wrote either (or its title generation did): control characters are shown."""
        return neutralise(self.shown_titles.get(chat.id, chat.title))

    async def refresh_chats(self) -> None:
        chats = await self.store.chats.list()
        tags = await self.store.tags.of_chats([chat.id for chat in chats])
        self.query_one(ChatList).show_chats(chats, self.chat.id if self.chat else None, self.shown_titles, tags)

    def set_shown_title(self, chat_id: str, title: str) -> None:
        """A pipe's `chat:title`: the header and the chat list show it, as Open WebUI's UI does;
        the stored title stays (Open WebUI's emitter does not save it either)."""
        self.shown_titles[chat_id] = title
        self.query_one(ChatList).set_title(chat_id, title)
        if self.chat is not None and self.chat.id == chat_id:
            self._show_title()

    async def renamed(self, chat: ChatRow) -> None:
        """A stored rename (by the user or a generated title) replaces a pipe's shown title."""
        self.shown_titles.pop(chat.id, None)
        if self.chat is not None and self.chat.id == chat.id:
            self.chat = chat
        await self.refresh_chats()

    @on(ChatList.Opened)
    async def _open_chat(self, event: ChatList.Opened) -> None:
        await self.open_chat(event.chat_id)

    def action_read(self) -> None:
        """Tab in the prompt: to the conversation, where t and s fold the selected reply."""
        self.query_one(Conversation).focus()

    @on(ChatList.Left)
    @on(Conversation.Left)
    def _back_to_prompt(self) -> None:
        self.query_one(Prompt).focus()

    async def open_chat(self, chat_id: str | None, at: str | None = None) -> None:
        """Show a chat (None: a new one), at its end or, with `at`, at that message, marked."""
        if self.streaming:
            self.notify("A reply is still streaming: press Escape to stop it first.", severity="warning")
            return
        chat = await self.store.chats.get(chat_id) if chat_id else None
        if self.drafts is not None:
            await self.drafts.show(chat.id if chat else None)
        self.park_attachments(self.chat.id if self.chat else None, chat.id if chat else None)
        self.new_chat_settings = NewChatSettings()
        messages, versions = await self.store.chats.branch_with_versions(chat_id) if chat_id else ([], {})
        if chat is not None and chat.model_id:
            self.model_id = chat.model_id
        self.chat = chat
        # Let go of the chat shown so far before the conversation collects it: a reply still
        # selected kept its chat's widgets alive through that collection, and then frozen.
        self.selected_reply = None
        self._move_cursor(None)
        conversation = self.query_one(Conversation)
        found = await conversation.show(messages, versions, at=at)
        chats = self.query_one(ChatList)
        chats.select(chat.id if chat is not None else None)  # also when opened from search or after a delete
        replies = conversation.replies()
        if isinstance(found, ReplyView):
            await self.select_reply(found)
        elif replies:
            await self.select_reply(replies[-1])
        else:
            self.selected_reply = None
            self.query_one(ActivityPane).show([], NO_EVENTS)
        self.query_one(Prompt).focus()

    def action_new_chat(self) -> None:
        self.run_worker(self.open_chat(None), group="open", exclusive=True, exit_on_error=False)

    @on(TextArea.Changed, "#prompt")
    def _prompt_changed(self) -> None:
        if self.drafts is not None:
            self.drafts.changed()

    async def on_unmount(self) -> None:
        """Closing (the app quits): keep what was typed since the draft was last stored."""
        if self.drafts is not None:
            try:
                await self.drafts.save()
            except Exception:  # noqa: BLE001 - the app is closing: a draft lost must not stop it
                log.exception("the prompt's draft could not be stored")

    @on(Prompt.Page)
    def _page(self, event: Prompt.Page) -> None:
        conversation = self.query_one(Conversation)
        (conversation.scroll_page_up if event.direction < 0 else conversation.scroll_page_down)()

    # -- panes ---------------------------------------------------------------------------
    def _layout_panes(self) -> None:
        width, height = self.app.size
        shown = self.panes.shown(width, height)
        self.set_class(not shown["sidebar"], "-no-sidebar")
        self.set_class(not shown["activity"], "-no-activity")
        self.set_class(Panes.compact("activity", width, height), "-short")
        self.refresh_bindings()

    async def action_toggle_sidebar(self) -> None:
        """F2: show the chat list and focus it; on the focused list, hide it (back to the prompt)."""
        chats = self.query_one(ChatList)
        shown = not self.has_class("-no-sidebar")
        if shown and not chats.has_focus:
            chats.focus()
            return
        await self.panes.toggle("sidebar", shown, *self.app.size, self.store)
        self._layout_panes()
        if shown:
            self.query_one(Prompt).focus()
        else:
            chats.focus()

    async def action_toggle_activity(self) -> None:
        await self.panes.toggle("activity", not self.has_class("-no-activity"), *self.app.size, self.store)
        self._layout_panes()

    def on_resize(self, event: events.Resize) -> None:
        self._layout_panes()
        self._show_title()  # the header's toggles and params fit the new width
