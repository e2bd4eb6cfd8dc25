"""A chat and a message as read from the database, for the async and the sync repos alike."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from tuichat.store.columns import load_json

Role = Literal["user", "assistant", "system"]
# Where a chat was started: the chat app, or `tuichat run` (listed apart in the app).
ChatOrigin = Literal["app", "run"]
# "interrupted": the process writing the reply ended before the reply did (see writers.py).
MessageStatus = Literal["streaming", "done", "stopped", "error", "interrupted"]
# (seconds since the request started, one trace step such as {"event": {...}})
Event = tuple[float, Any]

GET_CHAT: Final = "SELECT * FROM chat WHERE id = ?"
# Chats in the order the chat list shows them; LIMIT -1 means no limit in SQLite.
RECENT_CHATS: Final = "SELECT * FROM chat ORDER BY updated_at DESC, rowid DESC LIMIT ?"
# substr, not LIKE: a prefix typed by a user may hold `%` or `_`, which LIKE would read as wildcards.
CHATS_BY_PREFIX: Final = "SELECT * FROM chat WHERE substr(id, 1, ?) = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?"
CHAT_MESSAGES: Final = "SELECT * FROM message WHERE chat_id = ? ORDER BY created_at, rowid"


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
    current_id: str | None = None  # the leaf of the branch the chat shows (schema v8)
    filter_ids: list[str] = field(default_factory=list)  # toggle filters switched on in this chat (v9)
    origin: ChatOrigin = "app"
    tool_ids: list[str] = field(default_factory=list)  # tools selected in this chat (v12)

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
            current_id=row["current_id"] if "current_id" in row.keys() else None,
            filter_ids=load_json(row["filter_ids"]) if "filter_ids" in row.keys() else [],
            origin=row["origin"] if "origin" in row.keys() else "app",
            tool_ids=load_json(row["tool_ids"]) if "tool_ids" in row.keys() else [],
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
    # A user message's attachments (schema v12), as Open WebUI's message `files`: a file is the
    # web page's item ({type: "file", id, name, size, content_type, file: {...}, ...}), an image
    # {type: "image", id, name, size, content_type} whose bytes are the `file` row's (no data URL
    # stored twice; `runtime.attached.outgoing` rebuilds it when the message is sent).
    files: list[dict[str, Any]] = field(default_factory=list)

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
            files=load_json(row["files"]) if "files" in row.keys() else [],
        )
