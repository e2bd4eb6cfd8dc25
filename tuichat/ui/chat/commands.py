"""What the user does to a chat: rename, delete, search, export, its system prompt and
streaming, selecting and copying replies (a mixin of `ChatScreen`)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tuichat.runtime.untrusted import neutralise, shown_json
from tuichat.store import ChatRow
from tuichat.ui.widgets.activity import ActivityPane
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.marks import set_mark
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.user_message import UserMessage

if TYPE_CHECKING:
    from textual.widget import Widget

    from tuichat.store.search import SearchHit
    from tuichat.ui.chat.screen import ChatScreen
    from tuichat.ui.screens.copy import CopyChoice


class ChatCommands:
    """Actions on the open chat and its replies."""

    selected_reply: ReplyView | None = None
    selected_message: Widget | None = None  # the message cursor (ctrl+up / ctrl+down): F5 copies it

    def action_rename_chat(self: ChatScreen) -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        chat = self.chat
        if chat is None:
            self.notify("This chat is not saved yet: send a message first.")
            return

        async def rename(title: str | None) -> None:
            if title and title.strip():
                await self.renamed(await self.store.chats.rename(chat.id, title.strip()))

        self.app.push_screen(TextPromptScreen("Rename chat", self.shown_title(chat), submit="Rename"), rename)

    def action_delete_chat(self: ChatScreen) -> None:
        from tuichat.ui.screens.prompts import ConfirmScreen

        chat = self.chat
        if chat is None or self.streaming:
            return
        name = self.shown_title(chat)

        async def delete(sure: bool | None) -> None:
            if sure:
                if self.drafts is not None:
                    self.drafts.forget(chat.id)  # its draft goes with it: not stored again
                await self.store.chats.delete(chat.id)
                self.shown_titles.pop(chat.id, None)
                await self.refresh_chats()
                await self.open_chat(None)
                self.notify(f"Deleted “{name}”")

        self.app.push_screen(ConfirmScreen(f"Delete the chat “{name}”? This cannot be undone."), delete)

    def action_search(self: ChatScreen) -> None:
        from tuichat.ui.screens.search import SearchScreen

        async def opened(hit: SearchHit | None) -> None:
            if hit is not None:  # at the message that matched (a title's hit: at the end)
                await self.open_chat(hit.chat_id, at=hit.message_id)

        self.app.push_screen(SearchScreen(), opened)

    def action_export(self: ChatScreen) -> None:
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
            TextPromptScreen("Export chat (.md for Markdown, .json for everything)", f"{default}.md", submit="Export"),
            export,
        )

    async def _export(self: ChatScreen, chat: ChatRow, path: str) -> None:
        from tuichat.runtime.export import chat_to_json, chat_to_markdown
        from tuichat.runtime.transfer import TransferError, write_private

        messages = await self.store.chats.messages(chat.id)
        target = Path(path).expanduser()
        if target.suffix.lower() == ".json":
            events = {m.id: await self.store.chats.events(m.id) for m in messages}
            # Verbatim, with DEL and C1 escaped too: a file `cat` to a terminal acts on nothing.
            text = shown_json(json.dumps(chat_to_json(chat, messages, events), ensure_ascii=False, indent=2))
        else:
            text = chat_to_markdown(chat, messages)
        try:  # private: a chat may hold what a pipe was told in confidence
            await asyncio.to_thread(write_private, target, text)
        except TransferError as error:
            self.notify(f"Export failed: {error}", severity="error", timeout=10)
            return
        self.notify(f"Exported to {target.resolve()}")

    def action_system_prompt(self: ChatScreen) -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        current = self.chat.system_prompt if self.chat else self.new_chat_settings.system

        async def save(text: str | None) -> None:
            if text is None:
                return
            value = text.strip() or None
            if self.chat is None:
                self.new_chat_settings.system = value
            else:
                self.chat = await self.store.chats.update(self.chat.id, system_prompt=value)
            self.notify("System prompt set." if value else "System prompt removed.")

        self.app.push_screen(
            TextPromptScreen(
                "System prompt for this chat", current or "", multiline=True,
                placeholder="No system prompt: the pipe gets the chat as it is. Type one to set it.",
            ),
            save,
        )

    async def action_toggle_stream(self: ChatScreen) -> None:
        if self.chat is None:
            settings = self.new_chat_settings
            settings.stream = not settings.stream
            stream = settings.stream
        else:
            self.chat = await self.store.chats.update(self.chat.id, stream=not self.chat.stream)
            stream = self.chat.stream
        self.notify("Replies stream in this chat." if stream else "Replies arrive whole in this chat (stream off).")

    # -- replies -------------------------------------------------------------------------
    async def select_reply(self: ChatScreen, view: ReplyView) -> None:
        """Mark `view` selected and list its activity (live, as stored, or from the store)."""
        from tuichat.runtime.reply.model import activity_from_records

        # No style depends on "-selected" (it marks the reply whose activity is listed), and
        # restyling a reply walks all its widgets: 0.4 s for a 12k-character one.
        if self.selected_reply is not None:
            self.selected_reply.remove_class("-selected", update=False)
        self.selected_reply = view
        self._move_cursor(None)  # a reply selected anew (a new one, a chat opened): the cursor is there
        view.add_class("-selected", update=False)
        self.refresh_bindings()  # ctrl+b offers this reply's follow-ups, if it has any
        activity = self.query_one(ActivityPane)
        if view.streaming and self.turn is not None:
            activity.show(list(self.turn.builder.activity))
        elif view.reply.activity:
            activity.show(view.reply.activity)
        elif view.message_id is not None:
            activity.show(activity_from_records(await self.store.chats.events(view.message_id)))
        else:
            activity.show([])

    def action_activity_filter(self: ChatScreen) -> None:
        """Step the activity pane's filter: all, events, output, logs (its title says which)."""
        self.query_one(ActivityPane).next_filter()

    async def action_select_message(self: ChatScreen, step: int) -> None:
        """Move the message cursor (ctrl+up / ctrl+down) over every message: what F5 copies;
        on a reply, the activity pane shows its events."""
        conversation = self.query_one(Conversation)
        messages = conversation.messages()
        if not messages:
            return
        current = self.selected_message if self.selected_message in messages else self.selected_reply
        index = messages.index(current) if current in messages else len(messages)
        if index + step < 0 and await conversation.mount_earlier():  # above the first mounted
            messages = conversation.messages()
            index = messages.index(current) if current in messages else len(messages)
        target = messages[max(0, min(len(messages) - 1, index + step))]
        if isinstance(target, ReplyView):
            await self.select_reply(target)
        else:
            self.query_one(ActivityPane).show([], "A message you sent: it has no events")
        self._move_cursor(target)
        if target.display:
            target.scroll_visible()
        else:  # folded away above the view while a reply streamed: shown, then scrolled to
            conversation.unfold()
            self.call_after_refresh(target.scroll_visible)

    def version_target(self: ChatScreen) -> str | None:
        """The message alt+left/right switches: the selected reply if it has other versions,
        else the message it answers, if that has."""
        view = self.selected_reply
        if view is None or view.message_id is None:
            return None
        conversation = self.query_one(Conversation)
        if view.message_id in conversation.versions:
            return view.message_id
        widgets = list(conversation.children)
        at = widgets.index(view) if view in widgets else 0
        asked = getattr(widgets[at - 1], "message_id", None) if at > 0 else None
        return asked if asked in conversation.versions else None

    async def action_version(self: ChatScreen, step: int) -> None:
        target, chat = self.version_target(), self.chat
        if target is None or chat is None:
            self.notify("This reply has no other versions: ctrl+g regenerates it, ctrl+l edits your message.")
            return
        if not await self.store.chats.switch_version(chat.id, target, step):
            self.notify("No more versions that way.")
            return
        await self.open_chat(chat.id)

    def follow_up_reply(self: ChatScreen) -> ReplyView | None:
        """The reply whose follow-ups ctrl+b offers: the selected one, if it has any."""
        view = self.selected_reply
        return view if view is not None and view.reply.follow_ups else None

    def action_follow_ups(self: ChatScreen) -> None:
        from tuichat.ui.screens.follow_ups import FollowUpScreen

        view = self.follow_up_reply()
        if view is None:
            self.notify("This reply has no follow-up suggestions.")
            return

        def chosen(text: str | None) -> None:
            if text:
                self.send_follow_up(text)

        self.app.push_screen(FollowUpScreen(view.reply.follow_ups), chosen)

    def _move_cursor(self: ChatScreen, target: Widget | None) -> None:
        """Mark `target` as the cursor (shown once the user moves it; a new reply clears it)."""
        if self.selected_message is not None:
            set_mark(self.selected_message, "-cursor", False)
        self.selected_message = target
        if target is not None:
            set_mark(target, "-cursor", True)

    def action_copy_message(self: ChatScreen) -> None:
        """F5: the selected message (the last reply unless the cursor moved), whole or one of
        its code blocks, to the clipboard or a file."""
        from tuichat.ui.screens.copy import CopyScreen, media_copyables

        message = self.selected_message or self.selected_reply
        media = []
        if isinstance(message, ReplyView):
            text, who = message.reply.content, "reply"
            media = media_copyables(message.reply.content, message.reply.files)
        elif isinstance(message, UserMessage):
            text, who = message.text, "message"
        else:
            text, who = "", ""
        if not text:
            self.notify("No message to copy: send one, or pick one with ctrl+up.")
            return

        def chosen(choice: CopyChoice | None) -> None:
            if choice is None:
                return
            if choice.item.data is not None:
                self._write_copy(choice.item.data, choice.item.suffix, name=choice.item.name)
            elif choice.to_file:
                self._write_copy(choice.item.text, choice.item.suffix)
            else:
                self._copy(choice)

        self.app.push_screen(CopyScreen(text, who, media), chosen)

    def _copy(self: ChatScreen, choice: CopyChoice) -> None:
        # What is on screen: control characters pasted into a terminal would act there.
        text = neutralise(choice.item.text)
        self.app.copy_to_clipboard(text)
        path = choice.path
        if path is not None and not path.ok:
            note = path.note.replace("press w to write to a file", "F5 then w writes it to a file")
            self.notify(f"Not copied: {note}", title="Clipboard", severity="warning", timeout=15, markup=False)
            return
        lines = text.count("\n") + 1
        self.notify(f"Sent {lines} line{'s' if lines != 1 else ''} to the clipboard (OSC 52). Nothing pastes? "
                    "F5, then w writes it to a file.", title="Copied", markup=False)

    def _write_copy(self: ChatScreen, text: str | bytes, suffix: str, name: str = "tuichat-copy") -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        async def write(path: str | None) -> None:
            if not path or not path.strip():
                return
            target = Path(path.strip()).expanduser()
            try:
                if isinstance(text, bytes):
                    target.write_bytes(text)  # an image or file: its bytes as they came
                else:
                    target.write_text(neutralise(text), encoding="utf-8")
            except OSError as error:
                self.notify(f"Could not write {target}: {error.strerror}. Pick another path.",
                            severity="error", timeout=10, markup=False)
                return
            self.notify(f"Written to {target.resolve()}", title="Copied to a file", markup=False)

        default = f"~/{name}{suffix}"
        self.app.push_screen(TextPromptScreen("Write to a file", default, submit="Write"), write)
