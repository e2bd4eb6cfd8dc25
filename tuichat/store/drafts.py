"""Prompt drafts: what was typed in a chat's prompt and not sent yet, one per chat.

Kept in the `setting` table under `draft:<chat id>` (`draft:new` for the chat not created yet),
so no migration is needed. An empty draft is no row at all, and a chat's draft goes with the
chat (`ChatRepo.delete`), so drafts never pile up.
"""

from __future__ import annotations

from tuichat.store.columns import dump_json, load_json
from tuichat.store.database import Database

DRAFT_PREFIX = "draft:"
NEW_CHAT = "new"  # the key of the chat not created yet ("New chat")


def draft_setting(chat_id: str | None) -> str:
    """The setting that holds the draft of `chat_id` (None: the new chat)."""
    return DRAFT_PREFIX + (chat_id or NEW_CHAT)


class DraftRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, chat_id: str | None) -> str:
        text = await self._db.fetchvalue("SELECT value FROM setting WHERE key = ?", (draft_setting(chat_id),))
        value = load_json(text)
        return value if isinstance(value, str) else ""

    async def set(self, chat_id: str | None, text: str) -> None:
        """Store the draft of `chat_id` (None: the new chat); an empty one is deleted."""
        if not text:
            await self._db.execute("DELETE FROM setting WHERE key = ?", (draft_setting(chat_id),))
            return
        await self._db.execute(
            "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (draft_setting(chat_id), dump_json(text)),
        )
