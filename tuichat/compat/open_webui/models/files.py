"""`open_webui.models.files`: `Files`, the records of uploaded files.

tuichat has no file table of its own, so the records live in `compat_file`, which
mirrors Open WebUI's `file` table and is created on first use (the bytes go
through `open_webui.storage.provider.Storage`). Methods work awaited or called
directly; see `open_webui.models.users` for the conventions.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from tuichat.compat._awaitable import (
    AwaitableBool,
    AwaitableList,
    NotFound,
    SelfAwaitable,
    or_not_found,
)
from tuichat.compat._db import connect
from tuichat.compat._names import module_getattr
from tuichat.compat._settings import paths
from tuichat.store.columns import dump_json_lenient, load_json

__all__ = [
    "FileForm",
    "FileMeta",
    "FileModel",
    "FileModelResponse",
    "FileUpdateForm",
    "Files",
    "FilesTable",
]

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
_COLUMNS: Final = (
    "id", "user_id", "hash", "filename", "path", "data", "meta", "created_at", "updated_at",
)  # fmt: skip
_JSON_COLUMNS: Final = frozenset({"data", "meta"})


class FileModel(SelfAwaitable, BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    hash: str | None = None

    filename: str
    path: str | None = None

    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    created_at: int | None  # epoch seconds
    updated_at: int | None


class FileMeta(BaseModel):
    name: str | None = None
    content_type: str | None = None
    size: int | None = None

    model_config = ConfigDict(extra="allow")


class FileModelResponse(SelfAwaitable, BaseModel):
    id: str
    user_id: str
    hash: str | None = None

    filename: str
    data: dict[str, Any] | None = None
    meta: FileMeta | None = None

    created_at: int  # epoch seconds
    updated_at: int | None = None

    model_config = ConfigDict(extra="allow")


class FileForm(BaseModel):
    id: str
    hash: str | None = None
    filename: str
    path: str
    data: dict[str, Any] = {}
    meta: dict[str, Any] = {}


class FileUpdateForm(BaseModel):
    hash: str | None = None
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


class FilesTable:
    def insert_new_file(
        self, user_id: str, form_data: FileForm, db: object = None
    ) -> FileModel | NotFound:
        """Record a file; NOT_FOUND (None) if its id is taken, as Open WebUI."""
        now = int(time.time())
        file = FileModel(**form_data.model_dump(), user_id=user_id, created_at=now, updated_at=now)
        try:
            with _connect(write=True) as conn:
                conn.execute(
                    f"INSERT INTO compat_file ({', '.join(_COLUMNS)})"
                    f" VALUES ({', '.join('?' * len(_COLUMNS))})",
                    [_column(name, getattr(file, name)) for name in _COLUMNS],
                )
        except sqlite3.IntegrityError:
            return or_not_found(None)
        return file

    def get_file_by_id(self, id: str, db: object = None) -> FileModel | NotFound:
        return or_not_found(_first(_select("WHERE id = ?", (id,))))

    def get_file_by_id_and_user_id(
        self, id: str, user_id: str, db: object = None
    ) -> FileModel | NotFound:
        return or_not_found(_first(_select("WHERE id = ? AND user_id = ?", (id, user_id))))

    def get_files(self, db: object = None) -> AwaitableList[FileModel]:
        return AwaitableList(_select())

    def get_files_by_ids(self, ids: Iterable[str], db: object = None) -> AwaitableList[FileModel]:
        """Most recently updated first, as Open WebUI."""
        wanted = set(ids)
        files = [file for file in _select() if file.id in wanted]
        files.sort(key=lambda file: file.updated_at or 0, reverse=True)
        return AwaitableList(files)

    def get_files_by_user_id(self, user_id: str, db: object = None) -> AwaitableList[FileModel]:
        return AwaitableList(_select("WHERE user_id = ?", (user_id,)))

    def update_file_by_id(
        self, id: str, form_data: FileUpdateForm, db: object = None
    ) -> FileModel | NotFound:
        """Set the hash if given; merge the given data and meta into the stored ones."""
        return _change(id, form_data.hash, form_data.data, form_data.meta)

    def update_file_hash_by_id(
        self, id: str, hash: str | None, db: object = None
    ) -> FileModel | NotFound:
        return _change(id, hash=hash, set_hash=True)

    def update_file_data_by_id(
        self, id: str, data: Mapping[str, Any], db: object = None
    ) -> FileModel | NotFound:
        return _change(id, data=data)

    def update_file_metadata_by_id(
        self, id: str, meta: Mapping[str, Any], db: object = None
    ) -> FileModel | NotFound:
        return _change(id, meta=meta)

    def delete_file_by_id(self, id: str, db: object = None) -> AwaitableBool:
        """Forget the record (the stored bytes stay: `Storage.delete_file` removes them)."""
        with _connect(write=True) as conn:
            conn.execute("DELETE FROM compat_file WHERE id = ?", (id,))
        return AwaitableBool(True)

    def delete_all_files(self, db: object = None) -> AwaitableBool:
        with _connect(write=True) as conn:
            conn.execute("DELETE FROM compat_file")
        return AwaitableBool(True)


Files = FilesTable()

# The databases whose compat_file table is known to exist, so that each is checked
# with a (write-locking) CREATE TABLE once per process, not on every call.
_ready: set[Path] = set()


def _connect(*, write: bool = False) -> AbstractContextManager[sqlite3.Connection]:
    db_path = paths().db_path
    if db_path not in _ready:
        with connect(write=True) as conn:
            conn.execute(_TABLE)
        _ready.add(db_path)
    return connect(write=write)


def _select(where: str = "", params: tuple[Any, ...] = ()) -> list[FileModel]:
    with _connect() as conn:
        rows = conn.execute(
            f"SELECT * FROM compat_file {where} ORDER BY created_at, rowid", params
        ).fetchall()
    return [
        FileModel.model_validate(
            {
                name: load_json(row[name]) if name in _JSON_COLUMNS else row[name]
                for name in _COLUMNS
            }
        )
        for row in rows
    ]


def _first(files: list[FileModel]) -> FileModel | None:
    return files[0] if files else None


def _change(
    id: str,
    hash: str | None = None,
    data: Mapping[str, Any] | None = None,
    meta: Mapping[str, Any] | None = None,
    *,
    set_hash: bool = False,
) -> FileModel | NotFound:
    """Update a record as Open WebUI does: the hash replaced when given (or always,
    with `set_hash`), data and meta merged key by key, updated_at bumped."""
    with _connect(write=True) as conn:
        row = conn.execute(
            "SELECT hash, data, meta FROM compat_file WHERE id = ?", (id,)
        ).fetchone()
        if row is None:
            return or_not_found(None)
        values = {
            "hash": hash if set_hash or hash is not None else row["hash"],
            "data": _merged(row["data"], data),
            "meta": _merged(row["meta"], meta),
            "updated_at": int(time.time()),
            "id": id,
        }
        conn.execute(
            "UPDATE compat_file SET hash = :hash, data = :data, meta = :meta,"
            " updated_at = :updated_at WHERE id = :id",
            values,
        )
    return or_not_found(_first(_select("WHERE id = ?", (id,))))


def _merged(stored: str | None, changes: Mapping[str, Any] | None) -> str | None:
    if changes is None:
        return stored
    return dump_json_lenient({**(load_json(stored) or {}), **changes})


def _column(name: str, value: Any) -> Any:
    # Lenient: Open WebUI drops what JSON cannot hold from file meta rather than fail.
    return dump_json_lenient(value) if name in _JSON_COLUMNS and value is not None else value


__getattr__ = module_getattr(__name__)
