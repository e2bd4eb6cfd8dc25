"""Readable database errors: what went wrong with which file, and what to do about it.

Shared by the async `Database` and the synchronous access in `tuichat.store.sync`,
so a problem reads the same whichever path hit it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Final

from tuichat.store.holders import describe_lock_holder
from tuichat.store.paths import ENV_VAR

# How a user points tuichat at another database file, named in every hint.
CHOOSE: Final = f"--db PATH or {ENV_VAR}"
BUSY_TIMEOUT_MS: Final = 30_000


class StoreError(Exception):
    """A database problem, with a message that names the file and can be shown as is.

    `kind` sorts it for callers that retry: "busy" (another process holds the write lock),
    "full" (no space left), "readonly", "io", or "other". `cause` and `advice` are the two
    halves of the message a retrying caller words itself ("the disk holding X is full",
    "free some space there")."""

    def __init__(
        self, message: str, path: Path | None = None, *, kind: str = "other", cause: str | None = None, advice: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind
        self.cause = cause or message
        self.advice = advice


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
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
        "SQLITE_LOCKED",
        "{path} is locked ({error}); it was left unchanged. Close other tuichat "
        "instances and retry.",
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
            return StoreError(f"{path} was opened read-only; nothing was saved.", path, kind="readonly")
        return StoreError(_read_only_message(path), path, kind="readonly")
    if name.startswith("SQLITE_BUSY"):
        holder = describe_lock_holder(path) or "another process"
        cause = f"{path} is locked by {holder}"
        advice = "end that process or let it finish" if holder != "another process" else "close other programs using it"
        return StoreError(f"{cause} ({exc}); it was left unchanged: {advice}, then retry.", path, kind="busy", cause=cause, advice=advice)
    if name.startswith("SQLITE_FULL"):
        cause = f"the disk holding {path} is full{_free_space(path)}"
        advice = "free some space there"
        return StoreError(
            f"{cause[0].upper()}{cause[1:]}; the database was left unchanged. Free some space and retry.",
            path, kind="full", cause=cause, advice=advice,
        )
    for prefix, template in _MESSAGES:
        if name.startswith(prefix):
            message = template.format(path=path, error=exc, env=CHOOSE)
            kind = "io" if prefix == "SQLITE_IOERR" else "other"
            return StoreError(message, path, kind=kind)
    return StoreError(f"Database error in {path}: {exc}", path)


def _free_space(path: Path) -> str:
    """` (12 KB free on /mnt)`, or nothing when that cannot be read."""
    try:
        free = shutil.disk_usage(path.parent).free
        mount = path.parent.resolve()
        while not os.path.ismount(mount) and mount != mount.parent:
            mount = mount.parent
    except OSError:
        return ""
    size = f"{free} bytes" if free < 1024 else f"{free // 1024} KB" if free < 1024**2 else f"{free / 1024**2:.1f} MB"
    return f" ({size} free on {mount})"
