"""Records of files pipes upload, in `compat_file`, read and written without awaiting.

Not part of tuichat's schema: it mirrors Open WebUI's `file` table for what pipes upload, and is
created the first time it is used. Attachments are in `file` (`tuichat.store.files`); `get`
finds them too.
"""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Mapping
from typing import Any, Final

from tuichat.store.columns import dump_json_lenient, load_json
from tuichat.store.sync.connection import SyncDatabase

_TABLE: Final = """
CREATE TABLE IF NOT EXISTS compat_file (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    hash       TEXT,
    filename   TEXT NOT NULL,
    path       TEXT,
    data       TEXT,  -- JSON object
    meta       TEXT,  -- JSON object
    created_at INTEGER,  -- epoch seconds
    updated_at INTEGER
)
"""
FILE_COLUMNS: Final = (
    "id", "user_id", "hash", "filename", "path", "data", "meta", "created_at", "updated_at",
)  # fmt: skip
_JSON_COLUMNS: Final = frozenset({"data", "meta"})
_SELECT: Final = f"SELECT {', '.join(FILE_COLUMNS)} FROM compat_file"
_IN_ORDER: Final = "ORDER BY created_at, rowid"

FileRecord = dict[str, Any]  # FILE_COLUMNS to their values, data and meta decoded


class SyncFiles:
    def __init__(self, db: SyncDatabase) -> None:
        self._db = db
        # Checked once per store rather than on every call: CREATE TABLE takes the write lock.
        self._table_ready = False

    def insert(self, record: Mapping[str, Any]) -> bool:
        """Add a record of FILE_COLUMNS; False (adding nothing) if its id is taken."""
        self._ensure_table()
        values = [_column(name, record[name]) for name in FILE_COLUMNS]
        placeholders = ", ".join("?" * len(FILE_COLUMNS))
        with self._db.transaction() as conn:
            try:
                conn.execute(f"INSERT INTO compat_file ({', '.join(FILE_COLUMNS)}) VALUES ({placeholders})", values)
            except sqlite3.IntegrityError:
                return False
        return True

    def get(self, id: str) -> FileRecord | None:
        """The record, else the attachment with that id (the `file` table, schema v12: a pipe
        reading its `__files__` by id finds them, text in `data.content`, as in Open WebUI)."""
        records = self._select("WHERE id = ?", (id,))
        if records:
            return records[0]
        rows = self._db.fetchall(f"SELECT {', '.join(FILE_COLUMNS)} FROM file WHERE id = ?", (id,))
        return {name: load_json(rows[0][name]) if name in _JSON_COLUMNS else rows[0][name] for name in FILE_COLUMNS} if rows else None

    def list(self, user_id: str | None = None) -> list[FileRecord]:
        """Every record (or the user's), in the order they were added."""
        if user_id is None:
            return self._select()
        return self._select("WHERE user_id = ?", (user_id,))

    def update(
        self,
        id: str,
        *,
        hash: str | None = None,
        replace_hash: bool = False,
        data: Mapping[str, Any] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> FileRecord | None:
        """Change a record as Open WebUI does: the hash replaced when given (or always,
        with `replace_hash`), data and meta merged key by key, updated_at bumped.
        None if there is no such record."""
        self._ensure_table()
        with self._db.transaction() as conn:
            row = conn.execute("SELECT hash, data, meta FROM compat_file WHERE id = ?", (id,)).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE compat_file SET hash = ?, data = ?, meta = ?, updated_at = ? WHERE id = ?",
                (
                    hash if replace_hash or hash is not None else row["hash"],
                    _merged(row["data"], data),
                    _merged(row["meta"], meta),
                    int(time.time()),
                    id,
                ),
            )
        return self.get(id)

    def delete(self, id: str) -> None:
        self._ensure_table()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM compat_file WHERE id = ?", (id,))

    def delete_all(self) -> None:
        self._ensure_table()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM compat_file")

    def _select(self, where: str = "", params: tuple[Any, ...] = ()) -> builtins.list[FileRecord]:
        self._ensure_table()
        rows = self._db.fetchall(f"{_SELECT} {where} {_IN_ORDER}", params)
        return [{name: load_json(row[name]) if name in _JSON_COLUMNS else row[name] for name in FILE_COLUMNS} for row in rows]

    def _ensure_table(self) -> None:
        if not self._table_ready:
            with self._db.transaction() as conn:
                conn.execute(_TABLE)
            self._table_ready = True


def _merged(stored: str | None, changes: Mapping[str, Any] | None) -> str | None:
    if changes is None:
        return stored
    return dump_json_lenient({**(load_json(stored) or {}), **changes})


def _column(name: str, value: Any) -> Any:
    # Lenient: Open WebUI drops what JSON cannot hold from file meta rather than fail.
    return dump_json_lenient(value) if name in _JSON_COLUMNS and value is not None else value
