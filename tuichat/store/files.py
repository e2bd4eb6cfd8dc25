"""Attached files: Open WebUI's file rows in `file`, their bytes copied under the data folder.

The bytes go to `files/<id>_<name>` beside the database (the folder 0700, each file 0600: an
attachment may be private), written before the row, so a row never names a copy that is not
there. A chat's rows go with the chat (ON DELETE CASCADE), and `ChatRepo.delete` removes their
copies; copies whose row never got written (a crash between the two) are left, and are the
only orphans.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tuichat.store.columns import dump_json, load_json
from tuichat.store.database import Database
from tuichat.store.errors import StoreError

FILES_FOLDER: Final = "files"
_COLUMNS: Final = "id, user_id, chat_id, hash, filename, path, data, meta, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class FileRow:
    id: str
    user_id: str
    chat_id: str | None
    hash: str | None
    filename: str
    path: str | None
    data: dict[str, Any]  # {"status": "completed", "content": TEXT} for a text file; {} for an image
    meta: dict[str, Any]  # {"name", "content_type", "size", "file_hash", "data": {}}
    created_at: int
    updated_at: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FileRow:
        values = {key: row[key] for key in row.keys()}
        return cls(**{**values, "data": load_json(row["data"]) or {}, "meta": load_json(row["meta"]) or {}})

    @property
    def content(self) -> str | None:
        content = self.data.get("content")
        return content if isinstance(content, str) else None

    def read_bytes(self) -> bytes:
        """The stored copy's bytes; OSError when it is gone."""
        if not self.path:
            raise FileNotFoundError(f"file {self.id} has no stored copy")
        return Path(self.path).read_bytes()


def files_folder(db_path: Path) -> Path:
    return db_path.parent / FILES_FOLDER


class FileRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        *,
        file_id: str,
        user_id: str,
        chat_id: str | None,
        filename: str,
        content_type: str,
        data: bytes,
        sha256: str,
        text: str | None,
    ) -> FileRow:
        """Copy `data` into the data folder and add its row (Open WebUI's row once processed:
        `data.content` holds the text of a text file)."""
        path = self._write_copy(file_id, filename, data)
        now = int(time.time())
        meta = {"name": filename, "content_type": content_type, "size": len(data), "file_hash": sha256, "data": {}}
        row_data: dict[str, Any] = {} if text is None else {"status": "completed", "content": text, "error": None}
        try:
            await self._db.execute(
                f"INSERT INTO file ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (file_id, user_id, chat_id, sha256, filename, str(path), dump_json(row_data), dump_json(meta), now, now),
            )
        except BaseException:
            _unlink(path)
            raise
        return FileRow(file_id, user_id, chat_id, sha256, filename, str(path), row_data, meta, now, now)

    async def get(self, file_id: str) -> FileRow | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM file WHERE id = ?", (file_id,))
        return None if row is None else FileRow.from_row(row)

    async def of_chat(self, chat_id: str) -> builtins.list[FileRow]:
        rows = await self._db.fetchall(f"SELECT {_COLUMNS} FROM file WHERE chat_id = ? ORDER BY created_at, rowid", (chat_id,))
        return [FileRow.from_row(row) for row in rows]

    def _write_copy(self, file_id: str, filename: str, data: bytes) -> Path:
        folder = files_folder(self._db.path)
        safe_name = filename.replace(os.sep, "_").replace("\0", "_") or "file"
        path = folder / f"{file_id}_{safe_name}"
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
        except OSError as error:
            _unlink(path)
            raise StoreError(
                f"The attachment {filename!r} could not be copied to {folder}: {error.strerror or error}. "
                "Check that the folder is writable and the disk has room.",
                self._db.path,
            ) from error
        return path


def remove_copies(paths: builtins.list[str]) -> None:
    """Delete stored copies (their rows are gone); one already missing is fine."""
    for path in paths:
        _unlink(Path(path))


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
