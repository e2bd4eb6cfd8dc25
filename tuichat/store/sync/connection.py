"""Short-lived stdlib `sqlite3` connections, for callers that cannot await.

Pipes call the `open_webui` stand-ins synchronously, from the event loop thread and
from worker threads, so every call opens its own connection and closes it: none is
shared across threads, and none outlives the call. `Store.open` has already put the
file in WAL mode, so these reads never wait for tuichat's own writer.

A write waits up to the busy timeout for the write lock. On the event loop thread
that wait blocks the loop, so it cannot end early if tuichat itself holds the lock
across an `await`: writes from here should stay rare and small.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tuichat.store.database import Params
from tuichat.store.errors import BUSY_TIMEOUT_MS, store_error


class SyncDatabase:
    """One SQLite file, made and migrated by `Store.open`, opened anew for each call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection for one call, closed after it; sqlite3 errors become StoreError."""
        try:
            conn = self._open()
            try:
                yield conn
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise store_error(exc, self.path, readonly=False) from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside BEGIN IMMEDIATE ... COMMIT, rolled back if the block raises."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock now, not half-way
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with self.connect() as conn:
            return conn.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        with self.connect() as conn:
            row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
            return row

    def fetchvalue(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    def _open(self) -> sqlite3.Connection:
        # mode=rw: never create the file. A new file must be created and migrated by
        # `Store.open`, which refuses a non-empty database it did not make.
        uri = f"{self.path.resolve().as_uri()}?mode=rw"
        # isolation_level=None: no implicit transactions, `transaction` issues BEGIN;
        # timeout is SQLite's busy timeout, the same as the async connection's.
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
