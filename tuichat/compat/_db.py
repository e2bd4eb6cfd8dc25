"""Short-lived stdlib `sqlite3` connections to tuichat's database, for the model tables.

Pipes call the shim from the event loop thread (awaited or not) and from worker
threads, so each call opens its own connection and closes it: no connection is
shared across threads, and none outlives the call. `Store` has already put the
file in WAL mode, so these reads never wait for tuichat's writer.

A write here waits up to the busy timeout for the write lock. Called on the event
loop thread, that wait blocks the loop, so it cannot end early if tuichat itself
is holding the lock across an `await`: keep writes from pipes rare and small.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

from tuichat.compat._settings import paths
from tuichat.store.errors import BUSY_TIMEOUT_MS, StoreError

_LOCAL_USER: Final = "SELECT id FROM user ORDER BY created_at, rowid LIMIT 1"


@contextmanager
def connect(*, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection for one call; with `write`, inside BEGIN IMMEDIATE ... COMMIT."""
    conn = _open()
    try:
        if not write:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")  # takes the write lock now, not half-way
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


def fetch_all(sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    with connect() as conn:
        return conn.execute(sql, params).fetchall()


def fetch_one(sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    with connect() as conn:
        row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
        return row


def local_user_id(conn: sqlite3.Connection) -> str | None:
    """The id of tuichat's single user (the first row, as `UserRepo.local` picks it)."""
    row = conn.execute(_LOCAL_USER).fetchone()
    return None if row is None else str(row[0])


def _open() -> sqlite3.Connection:
    db_path = paths().db_path
    # mode=rw: never create the file. A new file must be created and migrated by
    # `Store.open`, which refuses a non-empty database it did not make.
    uri = f"{db_path.resolve().as_uri()}?mode=rw"
    try:
        # isolation_level=None: no implicit transactions, `connect` issues BEGIN;
        # timeout sets SQLite's busy timeout, the same as tuichat's own connection.
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(
            f"The open_webui compatibility layer cannot open {db_path} ({exc}). "
            f"tuichat must open it first; see tuichat.compat.configure.",
            db_path,
        ) from exc
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn
