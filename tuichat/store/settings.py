"""Small app settings (e.g. 'examples_seeded', the last model used), stored as JSON."""

from __future__ import annotations

from typing import Any

from tuichat.store.columns import dump_json, load_json
from tuichat.store.database import Database


class SettingsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str, default: Any = None) -> Any:
        text = await self._db.fetchvalue(
            "SELECT value FROM setting WHERE key = ?", (key,)
        )
        return default if text is None else load_json(text)

    async def set(self, key: str, value: Any) -> None:
        await self._db.execute(
            "INSERT INTO setting (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, dump_json(value)),
        )
