"""Open WebUI's model settings rows (its `model` table): what an admin saves for a model.

A pipe model has no row until one is saved; with one, `meta.filterIds` attaches filters to
it, `meta.toolIds` tools, and `params` its chat params. The row is kept as given (Open
WebUI's own JSON), so what `models show` prints is what `models set --json` took.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from tuichat.store.columns import load_json
from tuichat.store.database import Database
from tuichat.store.errors import StoreError


@dataclass(frozen=True)
class ModelSettings:
    id: str
    base_model_id: str | None
    name: str
    meta: dict[str, Any]
    params: dict[str, Any]
    is_active: bool
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ModelSettings:
        return cls(
            id=row["id"], base_model_id=row["base_model_id"], name=row["name"], meta=load_json(row["meta"]),
            params=load_json(row["params"]), is_active=bool(row["is_active"]),
            created_at=row["created_at"], updated_at=row["updated_at"],
        )  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        """The row as Open WebUI's `ModelModel` dumps it (what `__model__["info"]` holds)."""
        return {
            "id": self.id, "user_id": None, "base_model_id": self.base_model_id, "name": self.name,
            "params": self.params, "meta": self.meta, "access_control": None, "is_active": self.is_active,
            "updated_at": self.updated_at, "created_at": self.created_at,
        }  # fmt: skip

    @property
    def filter_ids(self) -> list[str]:
        ids = self.meta.get("filterIds")
        return [str(i) for i in ids] if isinstance(ids, list) else []

    @property
    def tool_ids(self) -> list[str]:
        ids = self.meta.get("toolIds")
        return [str(i) for i in ids] if isinstance(ids, list) else []


class ModelSettingsRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, model_id: str) -> ModelSettings | None:
        row = await self._db.fetchone("SELECT * FROM model WHERE id = ?", (model_id,))
        return ModelSettings.from_row(row) if row is not None else None

    async def list(self) -> list[ModelSettings]:
        return [ModelSettings.from_row(row) for row in await self._db.fetchall("SELECT * FROM model ORDER BY id")]

    async def save(
        self, model_id: str, *, name: str, base_model_id: str | None, meta: dict[str, Any], params: dict[str, Any]
    ) -> ModelSettings:
        """Create or replace the row (a saved settings form replaces the whole row)."""
        if not isinstance(meta, dict) or not isinstance(params, dict):
            raise StoreError(f"model '{model_id}': meta and params must be JSON objects", self._db.path)
        now = int(time.time())
        async with self._db.transaction():
            await self._db.execute(
                "INSERT INTO model (id, base_model_id, name, meta, params, is_active, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO UPDATE SET base_model_id = excluded.base_model_id,"
                " name = excluded.name, meta = excluded.meta, params = excluded.params, updated_at = excluded.updated_at",
                (model_id, base_model_id, name, json.dumps(meta), json.dumps(params), now, now),
            )
        saved = await self.get(model_id)
        assert saved is not None
        return saved

    async def delete(self, model_id: str) -> bool:
        async with self._db.transaction():
            return bool(await self._db.execute("DELETE FROM model WHERE id = ?", (model_id,)))
