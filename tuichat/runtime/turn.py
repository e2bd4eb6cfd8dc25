"""One chat turn: a user message, the pipe's reply, both saved as they happen.

The user message is stored before the pipe runs; the reply is kept saved while it streams
and once at the end (`runtime.reply_saving`: timed saves, retries, save problems, recovery
files). `interrupt` ends a reply because tuichat itself is ending (SIGTERM, SIGHUP): it is
saved as 'interrupted'. The CLI and the TUI both drive turns through this module: they
render the `Update`s that `run` yields, then `finished` (the last update and the reply as
stored).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuichat.runtime.attached import Outgoing, message_files, outgoing, store_attachments, unsaved_rows
from tuichat.runtime.attachments import Attachment
from tuichat.runtime.chatpath.client import build_chat_body, chat_setup
from tuichat.runtime.host import PipeHost, make_body, new_metadata
from tuichat.runtime.invocation.invoke import EventCallHandler, Invocation
from tuichat.runtime.invocation.trace import Step
from tuichat.runtime.reply.builder import ReplyBuilder
from tuichat.runtime.reply.model import NO_CHANGE, Finished, Reply, ReplyStatus, Update
from tuichat.runtime.reply_saving import ReplySaver
from tuichat.store import ChatRow, MessageRow, StoreError
from tuichat.store.chat_rows import ChatOrigin
from tuichat.store.files import FileRow, remove_copies

BREATHE = 0.05  # a stream that never waits gives the event loop (and so the saver) a turn this often
TITLE_LENGTH = 60


def default_title(text: str) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "") or "New chat"
    return first_line if len(first_line) <= TITLE_LENGTH else first_line[: TITLE_LENGTH - 1].rstrip() + "…"


@dataclass
class TurnContext:
    chat: ChatRow | None
    user_message: MessageRow | None
    reply_message: MessageRow | None


class Turn:
    """`run` yields what each step changed; then `finished` holds the end of the reply."""

    def __init__(
        self,
        host: PipeHost,
        model_id: str,
        text: str,
        *,
        chat_id: str | None = None,
        system: str | None = None,
        stream: bool = True,
        save: bool = True,
        metadata: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
        event_call: EventCallHandler | None = None,
        again: MessageRow | None = None,
        edit_of: MessageRow | None = None,
        trace: Callable[[Step], None] | None = None,
        on_save_problem: Callable[[StoreError | None], None] | None = None,
        bare: bool = False,
        filter_ids: list[str] | None = None,
        params: dict[str, Any] | None = None,
        tool_ids: list[str] | None = None,
        origin: ChatOrigin = "app",
        attachments: Sequence[Attachment] = (),
    ) -> None:
        """`origin`: where a chat this turn starts is said to come from ("run": `tuichat run`).
        `again`: a stored user message to answer anew (regenerate): the new reply is a
        sibling of its earlier ones, and no new user message is stored. `edit_of`: a stored user
        message `text` is an edited version of: stored as its sibling, with a reply.
        `trace`: called with every step of the call as it arrives (`tuichat run --jsonl`).
        `on_save_problem`: called with the error when saving the reply starts failing (or
        fails for another reason), and with None when a save works again.
        `bare`: call the pipe function alone, as Open WebUI's `generate_function_chat_completion`
        (else Open WebUI's chat path: filters, `filter_ids` toggles, chat `params`).
        `attachments`: files and images sent with the message (already read and checked by
        `runtime.attachments.read_attachment`): stored with it (unless `save` is off) and sent
        as Open WebUI's web page sends them (`runtime.attached`)."""
        self.host = host
        self.model_id = model_id
        self.text = text
        self.chat_id = chat_id
        self.system = system
        self.stream = stream
        self.save = save
        self.extra_metadata = metadata or {}
        self.user = user
        self.event_call = event_call
        self.again = again
        self.edit_of = edit_of
        self.trace = trace
        self.builder = ReplyBuilder()
        self.context = TurnContext(None, None, None)
        self.invocation: Invocation | None = None
        self.finished: Finished | None = None  # set when `run` ends, however it ends
        self.bare = bare
        self.filter_ids = list(filter_ids or [])
        self.tool_ids = list(tool_ids or [])
        self.params = dict(params or {})
        self.origin: ChatOrigin = origin
        self.attachments = tuple(attachments)
        self._file_rows: list[FileRow] = []  # the attachments' rows (stored, or made up with `save` off)
        self.interrupted: str | None = None  # why `interrupt` ended the reply ("SIGTERM", ...)
        self._saver = ReplySaver(
            host.store, self._reply_now, model_id=model_id, user_text=text, on_problem=on_save_problem
        )

    @property
    def reply(self) -> Reply:
        """The finished reply (`run` has ended)."""
        if self.finished is None:
            raise RuntimeError("the reply is still streaming: read the updates `run` yields")
        return self.finished.reply

    async def prepare(self) -> Invocation:
        """Check the model, store the user message, and ready the call (nothing runs yet)."""
        await self.host.function_for_model(self.model_id)  # an unknown model stores nothing
        user = self.user if self.user is not None else await self.host.store.users.local()
        history = await self._history()
        if self.save:
            await self._store_messages(user["id"])
        reply_message = self.context.reply_message
        metadata = new_metadata(
            self.context.chat.id if self.context.chat else None,
            reply_message.id if reply_message else None,
            user_id=user["id"],
            session_id=self.host.session_id,
        )
        metadata.update(self.extra_metadata)
        if not self.save:
            self._file_rows = unsaved_rows(self.attachments, user_id=user["id"])
        current = {"role": "user", "content": self.text, "files": self._current_files()}
        sent = await outgoing(self.host.store, self._system_messages() + history + [current], self._file_rows,
                              data={row.id: a.data for row, a in zip(self._file_rows, self.attachments)})  # fmt: skip
        if self.bare:
            body = make_body(self.model_id, sent.messages, stream=self.stream)
            if sent.items:  # the function-level call's metadata holds only what was given
                metadata["files"] = sent.items
        else:
            body = await self._chat_body(sent, metadata, user)
            metadata = {}
        self.invocation = await self.host.invoke(
            self.model_id, body, metadata=metadata, user=user, event_call=self.event_call
        )
        if not self.bare:
            outlet_history = [{"role": m["role"], "content": m["content"]} for m in history]
            self.invocation.chat = await chat_setup(
                self.host.store, self.model_id, text=self.text, outlet_messages=outlet_history + [self._user_record(body)],
                file_texts=sent.texts,
            )  # fmt: skip
        if hasattr(self.invocation, "with_logs"):
            self.invocation.with_logs = True  # the reply keeps what the pipe printed and logged
        return self.invocation

    def _current_files(self) -> list[dict[str, Any]]:
        """The new message's `files`: those stored with it, else (not saved) the attachments'
        with what a regenerated or edited message already had."""
        if self.context.user_message is not None:
            return list(self.context.user_message.files)
        earlier = (self.again or self.edit_of).files if (self.again or self.edit_of) is not None else []
        return [*earlier, *message_files(self._file_rows)]

    async def _chat_body(self, sent: Outgoing, ids: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
        """Open WebUI's chat-path request (`tuichat.runtime.chatpath.request`)."""
        user_message = self.context.user_message
        return await build_chat_body(
            self.host.store, self.model_id, sent.messages, text=self.text, stream=self.stream, files=sent.items or None,
            user_files=sent.current or None,
            chat_id=ids["chat_id"], message_id=ids["message_id"],
            user_message_id=user_message.id if user_message is not None else None,
            session_id=ids["session_id"], user=user, filter_ids=self.filter_ids, params=self.params,
            tool_ids=self.tool_ids,
            extra_metadata=self.extra_metadata,
        )  # fmt: skip

    def _user_record(self, body: dict[str, Any]) -> dict[str, Any]:
        """The user message as the stored chat holds it (the outlets see its typed text)."""
        metadata = body["metadata"]
        return {"id": metadata.get("user_message_id"), "role": "user", "content": self.text}

    def _system_messages(self) -> list[dict[str, Any]]:
        system = self.system
        if system is None and self.context.chat is not None:
            system = self.context.chat.system_prompt
        return [{"role": "system", "content": system}] if system else []

    async def _history(self) -> list[dict[str, Any]]:
        if self.chat_id is None:
            return []
        chats = self.host.store.chats
        chat = await chats.get(self.chat_id)
        if chat is None:
            raise LookupError(f"no chat '{self.chat_id}' is stored. Run `tuichat chats list` to see them.")
        self.context.chat = chat
        earlier = await chats.messages(chat.id)
        cut = self.again or self.edit_of
        if cut is not None:  # what came before it on the chosen branch
            earlier = earlier[: next((i for i, m in enumerate(earlier) if m.id == cut.id), len(earlier))]
        return [
            {"role": m.role, "content": m.content, **({"files": m.files} if m.files else {})}
            for m in earlier
            if m.role in ("user", "assistant") and (m.role == "user" or m.content)
        ]

    async def _store_messages(self, user_id: str) -> None:
        try:
            await self._store_in_transaction(user_id)
        except BaseException:
            remove_copies([row.path for row in self._file_rows if row.path])  # their rows were rolled back
            self._file_rows = []
            raise

    async def _store_in_transaction(self, user_id: str) -> None:
        chats = self.host.store.chats
        async with self.host.store.transaction():
            chat = self.context.chat
            if chat is None:
                chat = await chats.create(
                    default_title(self.text), model_id=self.model_id, system_prompt=self.system,
                    stream=self.stream, origin=self.origin,
                )
            if self.attachments and self.again is None:
                self._file_rows = await store_attachments(self.host.store, self.attachments, user_id=user_id, chat_id=chat.id)
            files = message_files(self._file_rows)
            if self.again is not None:
                user_message = self.again
            elif self.edit_of is not None:  # a new version of that message, beside it (its attachments kept)
                user_message = await chats.add_message(chat.id, "user", self.text, parent_id=self.edit_of.parent_id,
                                                       files=[*self.edit_of.files, *files])  # fmt: skip
            else:
                previous = await chats.messages(chat.id)
                parent = previous[-1].id if previous else None
                user_message = await chats.add_message(chat.id, "user", self.text, parent_id=parent, files=files)
            reply_message = await chats.add_message(
                chat.id, "assistant", "", model_id=self.model_id, parent_id=user_message.id, status="streaming"
            )
        self.context = TurnContext(chat, user_message, reply_message)
        self._saver.attach(reply_message)

    async def run(self) -> AsyncIterator[Update]:
        """Each change to the reply as it happens (steps that change nothing are skipped).
        When it ends, normally, stopped, interrupted or cancelled, `finished` is set and a save
        tried (see `unsaved` and `flush` for one that failed)."""
        invocation = self.invocation or await self.prepare()
        saving = asyncio.create_task(self._saver.keep_saved()) if self._saver.active else None
        completed = False
        breath = time.monotonic()
        try:
            if self.interrupted is None:  # else ended before it began: the pipe is not started
                async for step in invocation:
                    if self.trace is not None:
                        self.trace(step)
                    update = self.builder.feed(step)
                    self._saver.touch()
                    if update is not NO_CHANGE:
                        yield update
                    if time.monotonic() - breath >= BREATHE:
                        await asyncio.sleep(0)
                        breath = time.monotonic()
                completed = self.interrupted is None
        finally:
            status: ReplyStatus | None = None
            if self.interrupted is not None:
                status = "interrupted"
            elif invocation.cancelled or not completed:
                status = "stopped"
            self.finished = self.builder.finish(status)
            self._saver.touch()
            if saving is not None:
                saving.cancel()
                await asyncio.wait([saving])  # (not `await saver`: that would swallow our own cancel)
            await self._saver.save_now()

    def cancel(self) -> None:
        if self.invocation is not None:
            self.invocation.cancel()

    def interrupt(self, reason: str) -> None:
        """End the reply because tuichat is ending (`reason`: "SIGTERM", ...): the pipe is
        cancelled and the reply saved as 'interrupted'. Also stops `flush` waiting."""
        if self.finished is None:
            self.interrupted = reason
            self.cancel()
        else:
            self._saver.give_up()

    # -- saving (`runtime.reply_saving`) ----------------------------------------------
    def _reply_now(self) -> Reply:
        return self.finished.reply if self.finished is not None else self.builder.snapshot()

    @property
    def save_error(self) -> StoreError | None:
        """Why the last save failed, while saves fail."""
        return self._saver.error

    @property
    def unsaved(self) -> bool:
        """Whether the reply has changes the database does not hold (its saves failed)."""
        return self._saver.unsaved

    async def flush(self, patience: float | None = None) -> bool:
        """Save what is not saved yet (`ReplySaver.flush`); `interrupt` stops the wait."""
        return await self._saver.flush(patience)

    def write_recovery(self) -> Path:
        """The reply, as it is now, in a recovery file (`ReplySaver.write_recovery`); its path."""
        return self._saver.write_recovery()
