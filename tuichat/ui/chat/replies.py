"""Sending a message: one turn of the runtime, streamed into the conversation.

The runtime owns the reply (`Turn`); this renders the `Update`s it yields into a `ReplyView`
and the activity pane, answers `__event_call__` with dialogs, stops a turn, answers a message
again (regenerate, edit and resend), and runs Open WebUI's background tasks afterwards
(follow-ups, a new chat's title and tags).

A database that will not take the reply (another process holds the write lock, the disk is
full) never costs it: the reply streams on and stays on screen, a notification says why it
is not saved and what to do, the turn retries with backoff, and a notification says when it
is saved. Until then the next message waits (it would be stored out of order). `interrupt_reply`
is how the app ends a reply when it is told to end (SIGTERM, SIGHUP).
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from textual import work
from textual.message import Message
from textual.screen import ModalScreen

from tuichat import heap
from tuichat.runtime.reply.present import notification_of, title_of
from tuichat.store import MessageRow
from tuichat.ui.chat.attachments import file_items
from tuichat.ui.widgets.activity import ActivityPane
from tuichat.ui.widgets.attachment_chips import AttachmentChips
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.user_message import UserMessage
from tuichat.ui.widgets.when import now

if TYPE_CHECKING:
    from tuichat.runtime.attachments import Attachment
    from tuichat.runtime.reply.model import ActivityEntry, Reply
    from tuichat.runtime.turn import Turn
    from tuichat.store import StoreError
    from tuichat.ui.chat.screen import ChatScreen

# Seconds a "not saved yet" notification stays; the turn repeats it while saves keep failing.
SAVE_PROBLEM_TIMEOUT = 30
# A pipe that floods (megabytes, thousands of events) gives its updates no pause: after
# STREAM_SLICE seconds of them the stream rests STREAM_REST, so a key typed meanwhile goes
# through the app's message queues (a hop each) at once, not one hop a slice.
STREAM_SLICE = 0.02
STREAM_REST = 0.005
# A reply at least this large (characters of text and thought; activity entries and statuses)
# freed megabytes as it ended, which glibc would keep: they go back to the system (`heap`).
LARGE_TEXT = 1_000_000
LARGE_ENTRIES = 5_000

class ReplyFinished(Message):
    """A turn ended (done, stopped, failed): its reply is stored and shown."""

    def __init__(self, chat_id: str | None, message_id: str | None, status: str) -> None:
        super().__init__()
        self.chat_id, self.message_id, self.status = chat_id, message_id, status


class Replies:
    """The chat screen's replies (a mixin of `ChatScreen`)."""

    _dialog: ModalScreen[Any] | None = None  # an event-call dialog on screen
    _unsaved_turn: Turn | None = None  # a finished reply the database has not taken yet

    def on_prompt_submitted(self: ChatScreen, event: Prompt.Submitted) -> None:
        # (A named handler: Textual collects `@on` handlers from message pumps, not mixins.)
        if not self.ready_to_send():
            return
        attachments = self.query_one(AttachmentChips).take()
        event.prompt.clear()
        if self.drafts is not None:  # sent: the chat's draft goes now, not a second later
            self.run_worker(self.drafts.save(), group="drafts", exit_on_error=False)
        self.start_reply(event.text, attachments=attachments)

    def send_follow_up(self: ChatScreen, text: str) -> None:
        """A chosen follow-up is sent as it is; what the prompt holds stays there."""
        if self.ready_to_send():
            self.start_reply(text)

    def ready_to_send(self: ChatScreen) -> bool:
        """Whether a message can go now; if not, the person is told why (or picks a model)."""
        if self.streaming:
            self.notify("Wait for the reply, or press Escape to stop it.", severity="warning")
            return False
        unsaved = self._unsaved_turn
        if unsaved is not None and unsaved.unsaved:
            cause = f" ({unsaved.save_error.cause})" if unsaved.save_error is not None else ""
            self.notify(
                f"The last reply is not saved yet{cause}. Your message stays in the prompt: send it once "
                f"that reply is saved, so the chat is stored in order.",
                title="Not sent", severity="warning", timeout=10, markup=False,
            )
            return False
        if self.services is None:
            self.notify("Still loading pipes, one moment…")
            return False
        if self.model_id is None:
            self.action_pick_model()
            return False
        return True

    @work(group="reply", exclusive=True, exit_on_error=False)
    async def start_reply(
        self: ChatScreen, text: str, again: MessageRow | None = None, edit_of: MessageRow | None = None,
        attachments: list[Attachment] | None = None,
    ) -> None:
        """Send `text` with `attachments` (or answer the stored `again` anew) and stream the reply."""
        from tuichat.runtime.errors import RuntimeErrorBase
        from tuichat.runtime.turn import Turn
        from tuichat.store import StoreError

        assert self.services is not None and self.model_id is not None
        # The last reply's background tasks give way: a pipe that blocks while making
        # follow-ups would hold the host, and this message, up (cancelled, it is restarted).
        self.workers.cancel_group(self, "background")
        attachments = attachments or []
        fresh = await self.fresh_attachments(attachments)
        if fresh is None:  # one has gone: the message and its attachments go back, unsent
            self._unsent(text, attachments)
            return
        new_chat = self.chat is None
        turn = Turn(
            self.services.host,
            self.model_id,
            text,
            chat_id=self.chat.id if self.chat else None,
            system=self.new_chat_settings.system if new_chat else None,
            stream=self.chat.stream if self.chat else self.new_chat_settings.stream,
            event_call=self._ask,
            again=again,
            edit_of=edit_of,
            on_save_problem=self._save_problem,
            filter_ids=self.chat_filter_ids(),
            tool_ids=self.chat_tool_ids(),
            params=self.chat_params(),
            attachments=fresh,
        )
        try:
            await turn.prepare()
        except (RuntimeErrorBase, LookupError, StoreError) as error:
            if isinstance(error, StoreError):  # nothing was stored: the message goes back to the prompt
                advice = f" {error.advice[0].upper()}{error.advice[1:]}, then send it again." if error.advice else ""
                self.notify(f"Your message was not sent: {error.cause}.{advice}", title="Not sent",
                            severity="error", timeout=20, markup=False)
            else:
                self.notify(str(error), severity="error", timeout=10)
            if again is None and edit_of is None:
                self._unsent(text, attachments)
            return
        self.turn, self.streaming = turn, True
        if new_chat:
            self.chat = turn.context.chat
            await self.store_new_chat_settings()
            await self.refresh_chats()
        await self._stream(turn, text, show_user=again is None, files=file_items(fresh))
        if (again is not None or edit_of is not None) and self.chat is not None:
            await self.open_chat(self.chat.id)  # the new version shows its place: ‹ 2/2 ›
        context = turn.context
        if turn.finished is not None and turn.finished.reply.status == "done" and context.chat and context.reply_message:
            # Ids, not the turn: a finished worker can outlive its task (a timer it set holds
            # its context until the timer's time), and with it the whole reply.
            self._background_tasks(context.chat.id, context.reply_message.id, turn.model_id, new_chat)

    def _unsent(self: ChatScreen, text: str, attachments: list[Attachment]) -> None:
        """A message that did not go: its text and attachments are back where they were."""
        self.query_one(Prompt).text = text
        chips = self.query_one(AttachmentChips)
        chips.set([*attachments, *chips.attachments])

    async def _stream(self: ChatScreen, turn: Turn, text: str, *, show_user: bool, files: list[dict[str, Any]]) -> None:
        context = turn.context
        conversation = self.query_one(Conversation)
        user, reply = context.user_message, context.reply_message
        if show_user:
            files = user.files if user is not None and user.files else files  # as stored
            created_at = user.created_at if user else now()
            await conversation.add(UserMessage(text, user.id if user else None, created_at=created_at, files=files))
        started = reply.created_at if reply else now()
        view = ReplyView(None, model_name=self.model_name(turn.model_id), streaming=True, created_at=started)
        view.message_id = context.reply_message.id if context.reply_message else None
        await conversation.add(view)
        await self.select_reply(view)
        chat_id = context.chat.id if context.chat else None
        activity = self.query_one(ActivityPane)
        loop = asyncio.get_running_loop()
        rested = loop.time()
        try:
            async with aclosing(turn.run()) as updates:
                async for update in updates:
                    view.apply(update)
                    if update.event is not None:
                        if self.selected_reply is view:
                            activity.add(update.event)
                        self._on_entry(chat_id, update.event)
                    if loop.time() - rested >= STREAM_SLICE:
                        await asyncio.sleep(STREAM_REST)
                        rested = loop.time()
        finally:
            self._close_dialog()
            if turn.finished is not None:
                await view.finish(turn.finished, large=_large(turn.finished.reply))
            self.turn, self.streaming = None, False
            if turn.unsaved:
                self._unsaved_turn = turn
                self._keep_saving(turn)
            await self.refresh_chats()
            if turn.finished is not None and _large(turn.finished.reply):
                self.call_after_refresh(heap.trim)
            status = turn.finished.reply.status if turn.finished is not None else "stopped"
            self.post_message(ReplyFinished(chat_id, view.message_id, status))

    def _save_problem(self: ChatScreen, error: StoreError | None) -> None:
        """The turn could not save the reply (or can again): say why and what to do."""
        from tuichat.runtime.reply_saving import save_problem_text

        if error is None:
            self.notify("The reply is saved now.", title="Saved", timeout=5)
        else:
            self.notify(save_problem_text(error), title="Reply not saved yet", severity="error",
                        timeout=SAVE_PROBLEM_TIMEOUT, markup=False)

    @work(group="save", exit_on_error=False)
    async def _keep_saving(self: ChatScreen, turn: Turn) -> None:
        """A finished reply the database would not take: retried (with backoff) until it does."""
        await turn.flush()
        if self._unsaved_turn is turn and not turn.unsaved:
            self._unsaved_turn = None

    async def interrupt_reply(self: ChatScreen, reason: str, patience: float = 2.0) -> None:
        """The app is told to end (`reason`: "SIGTERM", ...): end a streaming reply as interrupted,
        and give it, and a reply still waiting for the database, `patience` seconds to be saved
        (what is still unsaved then is written to a recovery file as the app ends)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        turn = self.turn
        if turn is not None:
            turn.interrupt(reason)
            while self.turn is turn and loop.time() < deadline:
                await asyncio.sleep(0.02)
        waiting = self._unsaved_turn
        if waiting is not None and waiting.unsaved:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiting.flush(), max(0.0, deadline - loop.time()))

    @work(group="background", exit_on_error=False)
    async def _background_tasks(self: ChatScreen, chat_id: str, reply_id: str, model_id: str, first: bool) -> None:
        """Follow-ups, then the title and tags of a new chat, from the chat's own pipe as Open
        WebUI asks for them (tuichat.runtime.background); each shows as it comes."""
        from tuichat.runtime.background.after_reply import FollowUps, Tagged, Titled, after_reply

        if self.services is None:
            return
        async with aclosing(after_reply(self.services.host, chat_id, reply_id, model_id, first_exchange=first)) as done:
            async for outcome in done:
                if isinstance(outcome, FollowUps):
                    for view in self.query_one(Conversation).replies():
                        if view.message_id == outcome.message_id:
                            view.set_follow_ups(outcome.suggestions)
                    self.refresh_bindings()
                elif isinstance(outcome, Titled):
                    await self.renamed(outcome.chat)
                elif isinstance(outcome, Tagged):
                    await self.refresh_chats()

    def _on_entry(self: ChatScreen, chat_id: str | None, entry: ActivityEntry) -> None:
        """Notifications also show as toasts, and `chat:title` in the header, as in Open WebUI."""
        notification = notification_of(entry)
        if notification is not None:
            self.notify(notification.text, severity=notification.severity, markup=False)  # the pipe's words
        title = title_of(entry)
        if title is not None and chat_id is not None:
            self.set_shown_title(chat_id, title)

    async def _ask(self: ChatScreen, event: dict[str, Any]) -> Any:
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

    def action_stop(self: ChatScreen) -> None:
        if self.turn is not None:
            self.turn.cancel()
            self._close_dialog()

    # -- answering again ------------------------------------------------------------------
    async def _last_exchange(self: ChatScreen) -> tuple[MessageRow, MessageRow | None] | None:
        """The chat's last user message and the reply after it, if any."""
        if self.chat is None:
            return None
        messages = await self.store.chats.messages(self.chat.id)
        users = [i for i, m in enumerate(messages) if m.role == "user"]
        if not users:
            return None
        last = users[-1]
        return messages[last], messages[last + 1] if last + 1 < len(messages) else None

    async def _answer_again(self: ChatScreen, user_message: MessageRow, edited: str | None = None) -> None:
        """A new version: another reply to `user_message`, or (`edited`) a new version of it with
        its reply. The earlier versions stay in the store (alt+left/right shows them)."""
        assert self.chat is not None
        await self.query_one(Conversation).drop_from(user_message.id, keep=edited is None)
        if edited is None:
            self.start_reply(user_message.content, again=user_message)
        else:
            self.start_reply(edited, edit_of=user_message)

    async def action_regenerate(self: ChatScreen) -> None:
        exchange = await self._last_exchange()
        if exchange is None:
            self.notify("Nothing to regenerate yet.")
            return
        await self._answer_again(exchange[0])

    async def action_edit_last(self: ChatScreen) -> None:
        from tuichat.ui.screens.prompts import TextPromptScreen

        exchange = await self._last_exchange()
        if exchange is None:
            self.notify("No message to edit yet.")
            return
        user_message = exchange[0]

        async def resend(text: str | None) -> None:
            if text is None or not text.strip() or text == user_message.content:
                return
            await self._answer_again(user_message, text)

        self.app.push_screen(
            TextPromptScreen("Edit and resend", user_message.content, multiline=True, allow_empty=False, submit="Send"),
            resend,
        )


def _large(reply: Reply) -> bool:
    """Whether a finished reply was a flood whose freed memory is worth giving back."""
    return (
        len(reply.content) + len(reply.reasoning) >= LARGE_TEXT
        or len(reply.activity) + len(reply.statuses) >= LARGE_ENTRIES
    )
