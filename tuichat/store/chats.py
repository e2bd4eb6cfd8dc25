"""Chats and their messages (a tree: see branches.py); a reply's own rows are in replies.py."""

from __future__ import annotations

import builtins
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Final, get_args

from tuichat.store.branches import Version, chosen_branch, switched, versions
from tuichat.store.chat_rows import (
    CHAT_MESSAGES,
    CHATS_BY_PREFIX,
    GET_CHAT,
    RECENT_CHATS,
    ChatOrigin,
    ChatRow,
    Event,
    MessageRow,
    MessageStatus,
    Role,
)
from tuichat.store.columns import (
    check_fields,
    dump_json,
    object_json,
    optional_str,
    require_bool,
    require_choice,
    require_str,
    string_list_json,
)
from tuichat.store.drafts import draft_setting
from tuichat.store.errors import StoreError
from tuichat.store.files import remove_copies
from tuichat.store.replies import ReplyRows, check_status
from tuichat.store.search import MATCH_END, MATCH_START, SearchHit, match_expression, search
from tuichat.store.writers import this_process

# Importers of this module's names from before the split keep working.
__all__ = ["MATCH_END", "MATCH_START", "ChatRepo", "ChatRow", "Event", "MessageRow", "SearchHit", "match_expression"]

_check_role = partial(require_choice, choices=get_args(Role), what="Message role")
_check_origin = partial(require_choice, choices=get_args(ChatOrigin), what="Chat origin")

_UPDATABLE: Final[Mapping[str, Callable[[object], object]]] = {
    "title": require_str,
    "model_id": optional_str,
    "system_prompt": optional_str,
    "stream": require_bool,
    "params": object_json,
    "filter_ids": string_list_json,
    "tool_ids": string_list_json,
}

# Keeps a chat's messages in insertion order even when the wall clock repeats a
# value (coarse clocks) or steps back (NTP): see `_created_at`.
_MIN_STEP: Final = 1e-6


# `add_message`'s default parent: the chat's current leaf.
LEAF: Final = object()


class ChatRepo(ReplyRows):
    """Chats and their messages; `ReplyRows` adds what a reply saves as it streams."""

    # -- chats ----------------------------------------------------------------------

    async def create(
        self,
        title: str,
        model_id: str | None = None,
        system_prompt: str | None = None,
        stream: bool = True,
        params: Mapping[str, Any] | None = None,
        origin: ChatOrigin = "app",
    ) -> ChatRow:
        """`origin`: "run" for a chat `tuichat run` started (the app lists those apart)."""
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
            _check_origin(origin),
        )
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO chat (id, title, model_id, system_prompt, stream, params,"
                " created_at, updated_at, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            return await self._require(chat_id)

    async def get(self, id: str) -> ChatRow | None:
        row = await self._db.fetchone(GET_CHAT, (id,))
        return None if row is None else ChatRow.from_row(row)

    async def with_prefix(self, prefix: str, limit: int = 10) -> builtins.list[ChatRow]:
        """Chats whose id starts with `prefix`, most recent first (ids typed abbreviated)."""
        rows = await self._db.fetchall(CHATS_BY_PREFIX, (len(prefix), prefix, limit))
        return [ChatRow.from_row(row) for row in rows]

    async def list(self, limit: int | None = None) -> builtins.list[ChatRow]:
        """Chats, most recently updated first."""
        rows = await self._db.fetchall(RECENT_CHATS, (-1 if limit is None else limit,))
        return [ChatRow.from_row(row) for row in rows]

    async def rename(self, id: str, title: str) -> ChatRow:
        return await self.update(id, title=title)

    async def update(self, id: str, **fields: Any) -> ChatRow:
        """Set any of: title, model_id, system_prompt, stream, params, filter_ids, tool_ids."""
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
        """Delete a chat with its messages, their events, its prompt draft and its attachments
        (rows and stored copies); False if there was none."""
        async with self._db.transaction():
            copies = [row["path"] for row in await self._db.fetchall("SELECT path FROM file WHERE chat_id = ? AND path IS NOT NULL", (id,))]
            await self._db.execute("DELETE FROM setting WHERE key = ?", (draft_setting(id),))
            deleted = await self._db.execute("DELETE FROM chat WHERE id = ?", (id,)) > 0
        remove_copies(copies)  # once the rows are gone for good (a failed commit keeps both)
        return deleted

    # -- messages -------------------------------------------------------------------

    async def add_message(
        self,
        chat_id: str,
        role: Role,
        content: str,
        *,
        model_id: str | None = None,
        parent_id: str | None | object = LEAF,
        status: MessageStatus = "done",
        files: Sequence[Mapping[str, Any]] = (),
    ) -> MessageRow:
        """Add a message to a chat and make it the chat's current leaf (and mark the chat
        updated). Its parent is `parent_id`, None for a root, by default the current leaf.
        `files`: a user message's attached items (`MessageRow.files`)."""
        message_id = str(uuid.uuid4())
        message = {
            "id": message_id,
            "chat_id": chat_id,
            "parent_id": parent_id,
            "role": _check_role(role),
            "content": require_str(content),
            "model_id": optional_str(model_id),
            "status": check_status(status),
            "files": dump_json([dict(f) for f in files]),
        }
        # A streaming message names this process, so start-up elsewhere leaves it alone while
        # we live, and marks it interrupted if we die first (see recover_interrupted).
        writer = this_process().to_json() if status == "streaming" else None
        async with self._db.transaction():
            now = time.time()
            # One statement both bumps the chat and proves it exists.
            if not await self._db.execute(
                "UPDATE chat SET updated_at = ? WHERE id = ?", (now, chat_id)
            ):
                raise self._missing("chat", chat_id)
            if parent_id is LEAF:
                message["parent_id"] = parent_id = await self._leaf(chat_id)
            if parent_id is not None:
                await self._check_parent(chat_id, str(parent_id))
            await self._db.execute(
                "INSERT INTO message (id, chat_id, parent_id, role, content, model_id,"
                " status, created_at, updated_at, writer, files) VALUES (:id, :chat_id, :parent_id,"
                " :role, :content, :model_id, :status, :created_at, :created_at, :writer, :files)",
                {**message, "created_at": await self._created_at(chat_id, now), "writer": writer},
            )
            await self._db.execute("UPDATE chat SET current_id = ? WHERE id = ?", (message_id, chat_id))
            return await self._require_message(message_id)

    async def _leaf(self, chat_id: str) -> str | None:
        """The current leaf: `current_id` while it exists, else the newest message."""
        return await self._db.fetchvalue(
            "SELECT coalesce((SELECT m.id FROM chat JOIN message AS m ON m.id = chat.current_id WHERE chat.id = :chat),"
            " (SELECT id FROM message WHERE chat_id = :chat ORDER BY created_at DESC, rowid DESC LIMIT 1))",
            {"chat": chat_id},
        )

    async def get_message(self, id: str) -> MessageRow | None:
        row = await self._db.fetchone("SELECT * FROM message WHERE id = ?", (id,))
        return None if row is None else MessageRow.from_row(row)

    async def messages(self, chat_id: str) -> builtins.list[MessageRow]:
        """The chat's chosen branch: its messages from the first to the current leaf."""
        chat = await self.get(chat_id)
        return chosen_branch(await self.all_messages(chat_id), chat.current_id if chat else None)

    async def all_messages(self, chat_id: str) -> builtins.list[MessageRow]:
        """Every message of the chat, every version, oldest first."""
        rows = await self._db.fetchall(CHAT_MESSAGES, (chat_id,))
        return [MessageRow.from_row(row) for row in rows]

    async def branch_with_versions(self, chat_id: str) -> tuple[builtins.list[MessageRow], dict[str, Version]]:
        """The chosen branch, and for its messages with siblings which version each is."""
        chat = await self.get(chat_id)
        rows = await self.all_messages(chat_id)
        branch = chosen_branch(rows, chat.current_id if chat else None)
        return branch, versions(rows, branch)

    async def switch_version(self, chat_id: str, message_id: str, step: int) -> bool:
        """Show the sibling `step` away from `message_id` (and, under it, its newest replies);
        False when there is none that way."""
        leaf = switched(await self.all_messages(chat_id), message_id, step)
        if leaf is None:
            return False
        await self._db.execute("UPDATE chat SET current_id = ? WHERE id = ?", (leaf.id, chat_id))
        return True

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
        (then newest); see `tuichat.store.search.search`."""
        return await search(self._db, query, limit)

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
