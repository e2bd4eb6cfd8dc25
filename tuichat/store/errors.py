"""Readable database errors: what went wrong with which file, and what to do about it.

Shared by the async `Database` and the synchronous access in `tuichat.store.sync`,
so a problem reads the same whichever path hit it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Final

from tuichat.store.paths import ENV_VAR

# How a user points tuichat at another database file, named in every hint.
CHOOSE: Final = f"--db PATH or {ENV_VAR}"
BUSY_TIMEOUT_MS: Final = 30_000


class StoreError(Exception):
    """A database problem, with a message that names the file and can be shown as is."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


# -- before opening -------------------------------------------------------------


def check_can_open(path: Path, readonly: bool) -> None:
    """Refuse early, and precisely, what SQLite would report vaguely (or late)."""
    if path.is_dir():
        raise StoreError(
            f"{path} is a folder, not a database file. Use {CHOOSE} with a file path "
            f"such as {path / 'tuichat.db'}.",
            path,
        )
    if readonly:
        if not path.is_file():
            raise StoreError(
                f"{path} does not exist, so it cannot be opened read-only.", path
            )
        return
    _make_parent(path)
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(_read_only_message(path), path)
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"The folder {path.parent} is read-only, but SQLite must create "
            f"{path.name}-wal and {path.name}-shm files beside {path}. Make the folder "
            f"writable, or use {CHOOSE} to pick a writable location.",
            path,
        )


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"Cannot create the folder {path.parent} for the database {path}: "
            f"{exc.strerror or exc}. Create it, or use {CHOOSE} to pick a writable "
            f"location.",
            path,
        ) from exc


# -- translating sqlite3 errors ---------------------------------------------------


def _read_only_message(path: Path) -> str:
    return (
        f"{path} is read-only, so tuichat cannot save changes. Make the file and its "
        f"folder writable, or use {CHOOSE} to pick a writable location."
    )


# Matched by prefix against `sqlite3.Error.sqlite_errorname`, which includes the
# extended code (SQLITE_READONLY_DIRECTORY, SQLITE_CANTOPEN_ISDIR, ...). A failed
# write has been rolled back by the time the message is shown, hence "unchanged".
_MESSAGES: Final[tuple[tuple[str, str], ...]] = (
    (
        "SQLITE_NOTADB",
        "{path} is not an SQLite database (file is not a database); it was left "
        "untouched. Move it aside, or use {env} to pick another file.",
    ),
    (
        "SQLITE_CANTOPEN",
        "Cannot open {path} ({error}). Check that the file and its folder exist and "
        "are readable and writable, or use {env} to pick another file.",
    ),
    (
        "SQLITE_CORRUPT",
        "{path} is damaged ({error}). Restore it from a backup, or move it aside to "
        "start afresh.",
    ),
    (
        "SQLITE_BUSY",
        "{path} stayed locked by another process for over {busy_s} s ({error}); it was "
        "left unchanged. Close other tuichat instances and retry.",
    ),
    (
        "SQLITE_LOCKED",
        "{path} is locked ({error}); it was left unchanged. Close other tuichat "
        "instances and retry.",
    ),
    (
        "SQLITE_FULL",
        "The disk holding {path} is full; the database was left unchanged. Free some "
        "space and retry.",
    ),
    (
        "SQLITE_IOERR",
        "Reading or writing {path} failed ({error}); the database was left unchanged. "
        "Check the disk, then retry.",
    ),
)


def store_error(exc: sqlite3.Error, path: Path, readonly: bool) -> StoreError:
    name: str = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY"):
        if readonly:
            return StoreError(f"{path} was opened read-only; nothing was saved.", path)
        return StoreError(_read_only_message(path), path)
    for prefix, template in _MESSAGES:
        if name.startswith(prefix):
            message = template.format(
                path=path, error=exc, env=CHOOSE, busy_s=BUSY_TIMEOUT_MS // 1000
            )
            return StoreError(message, path)
    return StoreError(f"Database error in {path}: {exc}", path)
