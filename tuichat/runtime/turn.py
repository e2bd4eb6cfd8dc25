"""One chat turn: a user message, the pipe's reply, both saved as they happen.

The user message is stored before the pipe runs; the reply at least once a second
while it streams and once at the end, so a crash loses at most a second of it.
The CLI and the TUI both drive turns through this module: they render the `Update`s that
`run` yields, then `finished` (the last update and the reply as stored).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from tuichat.runtime.host import PipeHost, make_body, new_metadata
from tuichat.runtime.invocation.invoke import EventCallHandler, Invocation
from tuichat.runtime.invocation.trace import Step
from tuichat.runtime.reply.builder import ReplyBuilder
from tuichat.runtime.reply.model import NO_CHANGE, Finished, Reply, Update
from tuichat.store import ChatRow, MessageRow

SAVE_INTERVAL = 1.0  # seconds between saves of a streaming reply
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
        trace: Callable[[Step], None] | None = None,
    ) -> None:
        """`again`: a stored user message to answer anew (regenerate, or edit and resend);
        it must be the chat's last message, and no new user message is stored.
        `trace`: called with every step of the call as it arrives (`tuichat run --jsonl`)."""
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
        self.trace = trace
        self.builder = ReplyBuilder()
        self.context = TurnContext(None, None, None)
        self.invocation: Invocation | None = None
        self.finished: Finished | None = None  # set when `run` ends, however it ends
        self._saved_activity = 0
        self._last_save = 0.0

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
            await self._store_messages()
        reply_message = self.context.reply_message
        metadata = new_metadata(
            self.context.chat.id if self.context.chat else None,
            reply_message.id if reply_message else None,
            user_id=user["id"],
            session_id=self.host.session_id,
        )
        metadata.update(self.extra_metadata)
        messages = self._system_messages() + history + [{"role": "user", "content": self.text}]
        body = make_body(self.model_id, messages, stream=self.stream)
        self.invocation = await self.host.invoke(
            self.model_id, body, metadata=metadata, user=user, event_call=self.event_call
        )
        if hasattr(self.invocation, "with_logs"):
            self.invocation.with_logs = True  # the reply keeps what the pipe printed and logged
        return self.invocation

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
        if self.again is not None:
            earlier = earlier[: next(i for i, m in enumerate(earlier) if m.id == self.again.id)]
        return [
            {"role": m.role, "content": m.content}
            for m in earlier
            if m.role in ("user", "assistant") and (m.role == "user" or m.content)
        ]

    async def _store_messages(self) -> None:
        chats = self.host.store.chats
        async with self.host.store.transaction():
            chat = self.context.chat
            if chat is None:
                chat = await chats.create(default_title(self.text), model_id=self.model_id, system_prompt=self.system, stream=self.stream)
            if self.again is not None:
                user_message = self.again
            else:
                previous = await chats.messages(chat.id)
                parent = previous[-1].id if previous else None
                user_message = await chats.add_message(chat.id, "user", self.text, parent_id=parent)
            reply_message = await chats.add_message(
                chat.id, "assistant", "", model_id=self.model_id, parent_id=user_message.id, status="streaming"
            )
        self.context = TurnContext(chat, user_message, reply_message)

    async def run(self) -> AsyncIterator[Update]:
        """Each change to the reply as it happens (steps that change nothing are skipped).
        When it ends, normally, stopped or cancelled, `finished` is set and saved."""
        invocation = self.invocation or await self.prepare()
        self._last_save = time.monotonic()
        completed = False
        try:
            async for step in invocation:
                if self.trace is not None:
                    self.trace(step)
                update = self.builder.feed(step)
                if update is not NO_CHANGE:
                    yield update
                if time.monotonic() - self._last_save >= SAVE_INTERVAL:
                    await self._save(self.builder.snapshot())
            completed = True
        finally:
            status = "stopped" if invocation.cancelled or not completed else None
            self.finished = self.builder.finish(status)
            await self._save(self.finished.reply)

    def cancel(self) -> None:
        if self.invocation is not None:
            self.invocation.cancel()

    async def _save(self, reply: Reply) -> None:
        """Store the reply as it is now, with the activity entries not stored yet."""
        self._last_save = time.monotonic()
        message = self.context.reply_message
        if not self.save or message is None:
            return
        activity = reply.activity[self._saved_activity :]
        self._saved_activity = len(reply.activity)
        await self.host.store.chats.save_reply(
            message.id,
            **reply.row_fields(),
            new_events=[(entry.at, entry.to_record()) for entry in activity],
        )
