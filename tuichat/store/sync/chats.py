"""The `chat` and `message` tables, read (and a chat renamed) without awaiting."""

from __future__ import annotations

import time

from tuichat.store.chat_rows import CHAT_MESSAGES, GET_CHAT, RECENT_CHATS, ChatRow, MessageRow
from tuichat.store.columns import require_str
from tuichat.store.sync.connection import SyncDatabase


class SyncChats:
    def __init__(self, db: SyncDatabase) -> None:
        self._db = db

    def get(self, id: str) -> ChatRow | None:
        row = self._db.fetchone(GET_CHAT, (id,))
        return None if row is None else ChatRow.from_row(row)

    def recent(self) -> list[ChatRow]:
        """Chats, most recently updated first."""
        return [ChatRow.from_row(row) for row in self._db.fetchall(RECENT_CHATS, (-1,))]

    def messages(self, chat_id: str) -> list[MessageRow]:
        """A chat's messages, oldest first."""
        return [MessageRow.from_row(row) for row in self._db.fetchall(CHAT_MESSAGES, (chat_id,))]

    def rename(self, id: str, title: str) -> bool:
        """Set the title, marking the chat as updated; False if there is no such chat."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE chat SET title = ?, updated_at = ? WHERE id = ?",
                (require_str(title), time.time(), id),
            )
            return cursor.rowcount > 0
