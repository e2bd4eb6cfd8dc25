"""Chats, their messages, and the events each reply received while it streamed."""

from __future__ import annotations

import builtins
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Literal, get_args

from tuichat.store.database import (
    Database,
    StoreError,
    check_fields,
    dump_json_lenient,
    load_json,
    object_json,
    optional_str,
    require_bool,
    require_choice,
    require_str,
)

Role = Literal["user", "assistant", "system"]
MessageStatus = Literal["streaming", "done", "stopped", "error"]
# (seconds since the request started, one trace step such as {"event": {...}})
Event = tuple[float, Any]

_check_role = partial(require_choice, choices=get_args(Role), what="Message role")
_check_status = partial(
    require_choice, choices=get_args(MessageStatus), what="Message status"
)

_UPDATABLE: Final[Mapping[str, Callable[[object], object]]] = {
    "title": require_str,
    "model_id": optional_str,
    "system_prompt": optional_str,
    "stream": require_bool,
    "params": object_json,
}

# Keeps a chat's messages in insertion order even when the wall clock repeats a
# value (coarse clocks) or steps back (NTP): see `_created_at`.
_MIN_STEP: Final = 1e-6


@dataclass(frozen=True, slots=True)
class ChatRow:
    id: str
    title: str
    model_id: str | None
    system_prompt: str | None
    stream: bool
    params: dict[str, Any]
    created_at: float  # epoch seconds
    updated_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ChatRow:
        return cls(
            id=row["id"],
            title=row["title"],
            model_id=row["model_id"],
            system_prompt=row["system_prompt"],
            stream=bool(row["stream"]),
            params=load_json(row["params"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: str
    chat_id: str
    parent_id: str | None
    role: Role
    content: str
    model_id: str | None
    created_at: float  # epoch seconds
    updated_at: float
    status: MessageStatus
    error: str | None
    reasoning: str | None
    usage: dict[str, Any] | None
    extra: dict[str, Any]  # statuses, sources, files, ...: whatever the runtime keeps

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> MessageRow:
        return cls(
            id=row["id"],
            chat_id=row["chat_id"],
            parent_id=row["parent_id"],
            role=row["role"],
            content=row["content"],
            model_id=row["model_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            status=row["status"],
            error=row["error"],
            reasoning=row["reasoning"],
            usage=load_json(row["usage"]),
            extra=load_json(row["extra"]),
        )


# Marks around the matched words in `SearchHit.snippet`: control characters, which
# chat text practically never holds, so a front end can split on them safely.
MATCH_START: Final = "\x02"
MATCH_END: Final = "\x03"
_SNIPPET_TOKENS: Final = 16  # words of context in a snippet
# A word to FTS5's unicode61 tokenizer: a letter or digit (`_` separates words).
_HAS_WORD: Final = re.compile(r"[^\W_]")
_MARKS: Final = re.compile(f"({MATCH_START}.*?{MATCH_END})", re.DOTALL)


@dataclass(frozen=True, slots=True)
class SearchHit:
    chat_id: str
    chat_title: str
    message_id: str | None  # None when the hit is the chat's title
    snippet: str  # the text around the match, matches between MATCH_START/MATCH_END
    rank: float  # FTS5 bm25: lower is better

    def parts(self) -> builtins.list[tuple[str, bool]]:
        """The snippet as (text, is_match) pieces, without the marks."""
        pieces = _MARKS.split(self.snippet)
        return [
            (piece[1:-1], True) if _MARKS.fullmatch(piece) else (piece, False)
            for piece in pieces
            if piece
        ]


class ChatRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- chats ----------------------------------------------------------------------

    async def create(
        self,
        title: str,
        model_id: str | None = None,
        system_prompt: str | None = None,
        stream: bool = True,
        params: Mapping[str, Any] | None = None,
    ) -> ChatRow:
        chat_id = str(uuid.uuid4())
        now = time.time()
        values = (
            chat_id,
            require_str(title),
            optional_str(model_id),
            optional_str(system_prompt),
            require_bool(stream),
            object_json({} if params is None else params),
            now,
            now,
        )
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO chat (id, title, model_id, system_prompt, stream, params,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return await self._require(chat_id)

    async def get(self, id: str) -> ChatRow | None:
        row = await self._db.fetchone("SELECT * FROM chat WHERE id = ?", (id,))
        return None if row is None else ChatRow.from_row(row)

    async def list(self, limit: int | None = None) -> builtins.list[ChatRow]:
        """Chats, most recently updated first."""
        rows = await self._db.fetchall(
            # LIMIT -1 means no limit in SQLite.
            "SELECT * FROM chat ORDER BY updated_at DESC, rowid DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [ChatRow.from_row(row) for row in rows]

    async def rename(self, id: str, title: str) -> ChatRow:
        return await self.update(id, title=title)

    async def update(self, id: str, **fields: Any) -> ChatRow:
        """Set any of: title, model_id, system_prompt, stream, params."""
        values = check_fields(fields, _UPDATABLE)
        assignments = "".join(f"{name} = :{name}, " for name in values)
        async with self._db.transaction():
            changed = await self._db.execute(
                f"UPDATE chat SET {assignments}updated_at = :now WHERE id = :id",
                {**values, "now": time.time(), "id": id},
            )
            if not changed:
                raise self._missing("chat", id)
            return await self._require(id)

    async def delete(self, id: str) -> bool:
        """Delete a chat with its messages and their events; False if there was none."""
        return await self._db.execute("DELETE FROM chat WHERE id = ?", (id,)) > 0

    # -- messages -------------------------------------------------------------------

    async def add_message(
        self,
        chat_id: str,
        role: Role,
        content: str,
        *,
        model_id: str | None = None,
        parent_id: str | None = None,
        status: MessageStatus = "done",
    ) -> MessageRow:
        """Append a message to a chat and mark the chat as updated."""
        message_id = str(uuid.uuid4())
        message = {
            "id": message_id,
            "chat_id": chat_id,
            "parent_id": parent_id,
            "role": _check_role(role),
            "content": require_str(content),
            "model_id": optional_str(model_id),
            "status": _check_status(status),
        }
        async with self._db.transaction():
            now = time.time()
            # One statement both bumps the chat and proves it exists.
            if not await self._db.execute(
                "UPDATE chat SET updated_at = ? WHERE id = ?", (now, chat_id)
            ):
                raise self._missing("chat", chat_id)
            if parent_id is not None:
                await self._check_parent(chat_id, parent_id)
            await self._db.execute(
                "INSERT INTO message (id, chat_id, parent_id, role, content, model_id,"
                " status, created_at, updated_at) VALUES (:id, :chat_id, :parent_id,"
                " :role, :content, :model_id, :status, :created_at, :created_at)",
                {**message, "created_at": await self._created_at(chat_id, now)},
            )
            return await self._require_message(message_id)

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
    ) -> bool:
        """Save a reply's state and append the events it got since the last save.

        Called about once a second while a reply streams, so it costs one UPDATE, one
        index lookup and the new events, however long the reply already is. Returns
        False (saving nothing) if the message is gone, e.g. its chat was deleted.
        """
        # Encode before taking the write lock, to hold it as briefly as possible.
        reply = {
            "id": message_id,
            "content": require_str(content),
            "reasoning": optional_str(reasoning),
            "status": _check_status(status),
            "error": optional_str(error),
            "usage": None if usage is None else dump_json_lenient(usage),
            "extra": dump_json_lenient(extra),
        }
        events = [(float(at), dump_json_lenient(data)) for at, data in new_events]
        async with self._db.transaction():
            if not await self._db.execute(
                "UPDATE message SET content = :content, reasoning = :reasoning,"
                " status = :status, error = :error, usage = :usage, extra = :extra,"
                " updated_at = :now WHERE id = :id",
                {**reply, "now": time.time()},
            ):
                return False
            if events:
                await self._append_events(message_id, events)
        return True

    async def get_message(self, id: str) -> MessageRow | None:
        row = await self._db.fetchone("SELECT * FROM message WHERE id = ?", (id,))
        return None if row is None else MessageRow.from_row(row)

    async def messages(self, chat_id: str) -> builtins.list[MessageRow]:
        """A chat's messages, oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM message WHERE chat_id = ? ORDER BY created_at, rowid",
            (chat_id,),
        )
        return [MessageRow.from_row(row) for row in rows]

    async def events(self, message_id: str) -> builtins.list[Event]:
        """The events a reply received, in the order they came."""
        rows = await self._db.fetchall(
            "SELECT at, data FROM message_event WHERE message_id = ? ORDER BY seq",
            (message_id,),
        )
        return [(row["at"], load_json(row["data"])) for row in rows]

    async def update_message_content(self, message_id: str, content: str) -> MessageRow:
        """Replace a message's text (an edit), marking it and its chat as updated."""
        text = require_str(content)
        async with self._db.transaction():
            chat_id = await self._chat_of(message_id)
            now = time.time()
            await self._db.execute(
                "UPDATE message SET content = ?, updated_at = ? WHERE id = ?",
                (text, now, message_id),
            )
            await self._touch(chat_id, now)
            return await self._require_message(message_id)

    async def delete_messages_after(self, message_id: str) -> int:
        """Delete every message that comes after `message_id` in its chat, with their
        events (to regenerate a reply, or to resend an edited message).

        Returns how many were deleted. Raises StoreError if the message is gone.
        """
        async with self._db.transaction():
            anchor = await self._db.fetchone(
                "SELECT chat_id, created_at, rowid FROM message WHERE id = ?",
                (message_id,),
            )
            if anchor is None:
                raise self._missing("message", message_id)
            # The order `messages()` gives: created_at, then rowid for equal times.
            deleted = await self._db.execute(
                "DELETE FROM message WHERE chat_id = ? AND (created_at, rowid) > (?, ?)",
                (anchor["chat_id"], anchor["created_at"], anchor["rowid"]),
            )
            if deleted:
                await self._touch(anchor["chat_id"], time.time())
            return deleted

    # -- search ---------------------------------------------------------------------

    async def search(self, query: str, limit: int = 50) -> builtins.list[SearchHit]:
        """Messages and chat titles matching every word of `query`, best match first
        (then newest). Any text is a valid query: words are matched literally, never
        as FTS5 syntax, and the last word also matches as a prefix (search as you type).
        """
        match = match_expression(query)
        if match is None or limit <= 0:
            return []
        rows = await self._db.fetchall(
            _SEARCH_SQL,
            {
                "match": match,
                "limit": limit,
                "start": MATCH_START,
                "end": MATCH_END,
                "tokens": _SNIPPET_TOKENS,
            },
        )
        return [
            SearchHit(
                chat_id=row["chat_id"],
                chat_title=row["chat_title"],
                message_id=row["message_id"],
                snippet=row["snippet"],
                rank=row["rank"],
            )
            for row in rows
        ]

    # -- helpers --------------------------------------------------------------------

    async def _touch(self, chat_id: str, now: float) -> None:
        # The chat list is ordered by updated_at: an edit counts as activity.
        await self._db.execute(
            "UPDATE chat SET updated_at = ? WHERE id = ?", (now, chat_id)
        )

    async def _chat_of(self, message_id: str) -> str:
        chat_id: str | None = await self._db.fetchvalue(
            "SELECT chat_id FROM message WHERE id = ?", (message_id,)
        )
        if chat_id is None:
            raise self._missing("message", message_id)
        return chat_id

    async def _append_events(
        self, message_id: str, events: Sequence[tuple[float, str]]
    ) -> None:
        # The primary key index answers max(seq) directly: no scan of earlier events.
        first_seq: int = await self._db.fetchvalue(
            "SELECT coalesce(max(seq) + 1, 0) FROM message_event WHERE message_id = ?",
            (message_id,),
        )
        await self._db.executemany(
            "INSERT INTO message_event (message_id, seq, at, data) VALUES (?, ?, ?, ?)",
            [
                (message_id, first_seq + i, at, data)
                for i, (at, data) in enumerate(events)
            ],
        )

    async def _created_at(self, chat_id: str, now: float) -> float:
        """`now`, nudged past the chat's latest message: order must not trust clocks."""
        latest: float | None = await self._db.fetchvalue(
            "SELECT max(created_at) FROM message WHERE chat_id = ?", (chat_id,)
        )
        return now if latest is None else max(now, latest + _MIN_STEP)

    async def _check_parent(self, chat_id: str, parent_id: str) -> None:
        parent_chat = await self._db.fetchvalue(
            "SELECT chat_id FROM message WHERE id = ?", (parent_id,)
        )
        if parent_chat != chat_id:
            raise StoreError(
                f"Message {parent_id!r} is not in chat {chat_id!r} ({self._db.path}), "
                f"so it cannot be the parent of a new message there.",
                self._db.path,
            )

    async def _require(self, id: str) -> ChatRow:
        row = await self.get(id)
        if row is None:
            raise self._missing("chat", id)
        return row

    async def _require_message(self, id: str) -> MessageRow:
        row = await self.get_message(id)
        if row is None:
            raise self._missing("message", id)
        return row

    def _missing(self, kind: str, id: str) -> StoreError:
        return StoreError(
            f"No {kind} with id {id!r} in {self._db.path}.", self._db.path
        )


# Each side keeps its own best `limit` hits, in the final order, before the merge:
# nothing past them could make the cut. `rank` is bm25(): lower is better.
# The two sides' scores are merged as they are, though each is computed over its own
# table: a title is short, so a title hit tends to rank above a message hit.
_SEARCH_SQL: Final = """
SELECT * FROM (
    SELECT chat.id AS chat_id, chat.title AS chat_title, message.id AS message_id,
           snippet(message_search, 0, :start, :end, '…', :tokens) AS snippet,
           message_search.rank AS rank, message.created_at AS at
    FROM message_search
    JOIN message ON message.rowid = message_search.rowid
    JOIN chat ON chat.id = message.chat_id
    WHERE message_search MATCH :match
    ORDER BY message_search.rank, message.created_at DESC
    LIMIT :limit
)
UNION ALL
SELECT * FROM (
    SELECT chat.id, chat.title, NULL,
           snippet(chat_search, 0, :start, :end, '…', :tokens),
           chat_search.rank, chat.updated_at
    FROM chat_search
    JOIN chat ON chat.rowid = chat_search.rowid
    WHERE chat_search MATCH :match
    ORDER BY chat_search.rank, chat.updated_at DESC
    LIMIT :limit
)
ORDER BY rank, at DESC
LIMIT :limit
"""


def match_expression(query: str) -> str | None:
    """`query` as an FTS5 MATCH expression that means its words, literally.

    Each whitespace-separated chunk becomes a quoted string (inner quotes doubled),
    so `"`, `*`, `-`, `:`, `^`, parentheses and the words AND/OR/NOT/NEAR are plain
    text; the tokenizer then splits a chunk such as `e-mail` into a phrase. Chunks
    with no letter or digit are dropped: as empty phrases they would match nothing.
    The last chunk is a prefix (`"wor"*`). None when nothing is left to search for.
    """
    chunks = [chunk for chunk in query.split() if _HAS_WORD.search(chunk)]
    if not chunks:
        return None
    phrases = ['"' + chunk.replace('"', '""') + '"' for chunk in chunks]
    phrases[-1] += "*"
    return " ".join(phrases)
