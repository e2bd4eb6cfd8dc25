"""A reply's rows: its saves while it streams, the events it received, its follow-ups, and
the replies left 'streaming' by processes that ended (marked 'interrupted' at start-up).

`ChatRepo` is built on `ReplyRows`, so these are `store.chats.save_reply`, `.events`, ...
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Final, get_args

from tuichat.store.chat_rows import Event, MessageStatus
from tuichat.store.columns import dump_json, dump_json_lenient, load_json, optional_str, require_choice, require_str
from tuichat.store.database import Database
from tuichat.store.errors import StoreError
from tuichat.store.writers import Writer, is_gone

check_status = partial(require_choice, choices=get_args(MessageStatus), what="Message status")

# Seconds after which a streaming row that names no writer (stored before v4) counts as left
# behind: far longer than an older tuichat went between saves of a live reply.
_UNNAMED_STALE: Final = 600.0
# Seconds start-up waits for another process's write lock to mark replies interrupted.
_RECOVER_WAIT: Final = 1.0


class ReplyRows:
    """The rows of a chat's replies, as they stream and after."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_follow_ups(self, message_id: str, follow_ups: Sequence[str]) -> bool:
        """Keep a reply's follow-up suggestions (Open WebUI's `followUps`) in its `extra`;
        False when the message is gone."""
        return bool(
            await self._db.execute(
                "UPDATE message SET extra = json_set(extra, '$.follow_ups', json(?)) WHERE id = ?",
                (dump_json(list(follow_ups)), message_id),
            )
        )

    async def save_reply(
        self,
        message_id: str,
        *,
        content: str,
        reasoning: str | None,
        status: MessageStatus,
        error: str | None,
        usage: Mapping[str, Any] | None,
        extra: Mapping[str, Any],
        new_events: Sequence[Event] = (),
        first_seq: int | None = None,
        wait: float | None = None,
    ) -> bool:
        """Save a reply's state and append the events it got since the last save.

        Called about twice a second while a reply streams, so it costs one UPDATE, one
        index lookup and the new events, however long the reply already is. Returns
        False (saving nothing) if the message is gone, e.g. its chat was deleted.

        `first_seq`: the position of the first of `new_events` among all the reply's events;
        given, the events are written at their positions, so saving the same ones again (a
        save whose outcome was never known, retried) keeps one copy. `wait`: seconds to wait
        for another process's write lock (see `Database.transaction`).
        """
        # Encode before taking the write lock, to hold it as briefly as possible.
        reply = {
            "id": message_id,
            "content": require_str(content),
            "reasoning": optional_str(reasoning),
            "status": check_status(status),
            "error": optional_str(error),
            "usage": None if usage is None else dump_json_lenient(usage),
            "extra": dump_json_lenient(extra),
        }
        events = [(float(at), dump_json_lenient(data)) for at, data in new_events]
        async with self._db.transaction(wait):
            if not await self._db.execute(
                "UPDATE message SET content = :content, reasoning = :reasoning,"
                " status = :status, error = :error, usage = :usage, extra = :extra,"
                " updated_at = :now WHERE id = :id",
                {**reply, "now": time.time()},
            ):
                return False
            if events:
                await self._append_events(message_id, events, first_seq)
        return True

    async def recover_interrupted(self) -> list[str]:
        """Mark 'interrupted' the replies left 'streaming' by processes that have ended,
        keeping what they saved; a reply a live process is writing is left alone. Returns
        the ids marked. Run at start-up (`Store.open`): it reads one small index.

        A row from before v4 names no writer: it is marked once it has not changed for
        `_UNNAMED_STALE` seconds (an older tuichat saved a streaming reply every second)."""
        rows = await self._db.fetchall(
            "SELECT id, writer, updated_at FROM message WHERE status = 'streaming'"
        )
        now = time.time()
        gone = []
        for row in rows:
            writer = Writer.from_json(row["writer"])
            if (is_gone(writer) if writer is not None else now - row["updated_at"] > _UNNAMED_STALE):
                gone.append(row["id"])
        if not gone:
            return gone
        marks = ",".join("?" * len(gone))
        try:
            # Briefly: start-up must not wait on another process's lock for this, nor fail
            # because the disk is full; the rows are marked by the next start instead.
            async with self._db.transaction(_RECOVER_WAIT):
                await self._db.execute(
                    f"UPDATE message SET status = 'interrupted' WHERE status = 'streaming' AND id IN ({marks})",
                    gone,
                )
        except StoreError as error:
            if error.kind not in ("busy", "full"):
                raise
            return []
        return gone

    async def events(self, message_id: str) -> list[Event]:
        """The events a reply received, in the order they came."""
        rows = await self._db.fetchall(
            "SELECT at, data FROM message_event WHERE message_id = ? ORDER BY seq",
            (message_id,),
        )
        return [(row["at"], load_json(row["data"])) for row in rows]

    async def _append_events(
        self, message_id: str, events: Sequence[tuple[float, str]], first_seq: int | None = None
    ) -> None:
        if first_seq is None:
            # The (message_id, seq) index answers max(seq) directly: no scan of earlier events.
            first_seq = await self._db.fetchvalue(
                "SELECT coalesce(max(seq) + 1, 0) FROM message_event WHERE message_id = ?",
                (message_id,),
            )
        await self._db.executemany(
            "INSERT OR REPLACE INTO message_event (message_id, seq, at, data) VALUES (?, ?, ?, ?)",
            [
                (message_id, first_seq + i, at, data)
                for i, (at, data) in enumerate(events)
            ],
        )
