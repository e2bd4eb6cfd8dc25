"""The SQLite connection: opening, checking and migrating the schema, transactions, statements.

Concurrency model:
- Between processes: WAL lets readers run beside one writer; every write runs in a
  `BEGIN IMMEDIATE` transaction, which takes the write lock up front (waiting up to
  `busy_timeout`), so a transaction never fails half-way with "database is locked".
- Within a process: one aiosqlite connection is shared by every asyncio task. An
  `asyncio.Lock` hands it to one unit of work (a transaction, or a read) at a time,
  so a task never sees, joins or rolls back another task's transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import (
    AsyncIterator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import aiosqlite

from tuichat.store.errors import BUSY_TIMEOUT_MS, CHOOSE, StoreError, check_can_open, store_error
from tuichat.store.paths import default_db_path
from tuichat.store.privacy import create_private
from tuichat.store.schema import MIGRATIONS, SCHEMA_VERSION, statements

Params = Sequence[Any] | Mapping[str, Any]  # positional (?) or named (:name) parameters

_CONNECTION_PRAGMAS: Final = (
    # First, so that the other pragmas wait for locks too.
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
    # Safe in WAL mode (a power cut can lose the last commits, never corrupt), and
    # commits skip the fsync, which matters for replies saved every second.
    "PRAGMA synchronous = NORMAL",
)


# The transaction the running task is inside. Tasks started inside a transaction
# inherit it (contextvars are copied), so `gather` in a transaction joins it too.
_current_transaction: ContextVar[object | None] = ContextVar(
    "tuichat_store_transaction", default=None
)


class Database:
    """One SQLite file: `await Database.open(path)`. `Store` adds the repositories."""

    def __init__(
        self, connection: aiosqlite.Connection, path: Path, readonly: bool
    ) -> None:
        self._conn: aiosqlite.Connection | None = connection
        self.path = path
        self.readonly = readonly
        self._lock = asyncio.Lock()
        self._active_transaction: object | None = None

    # -- opening and closing ------------------------------------------------------

    @classmethod
    async def open(
        cls, path: str | os.PathLike[str] | None = None, *, readonly: bool = False
    ) -> Self:
        """Open the database at `path` (default: `default_db_path()`), creating and
        migrating it as needed.

        With `readonly=True` the file is opened with SQLite's `mode=ro`: it must exist
        and be up to date, and every write raises StoreError.
        """
        db_path = Path(path) if path is not None else default_db_path()
        check_can_open(db_path, readonly)
        if not readonly:
            create_private(db_path)
        db = cls(await _connect(db_path, readonly), db_path, readonly)
        try:
            await db._prepare()
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        """Close, after any running transaction; closing twice is fine."""
        async with self._turn():
            conn, self._conn = self._conn, None
            if conn is not None:
                with self._errors():
                    await conn.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _prepare(self) -> None:
        for pragma in _CONNECTION_PRAGMAS:
            await self._run(pragma)
        # Check before switching to WAL, so a file we refuse is left exactly as it was.
        version = await self._check_schema()
        if not self.readonly:
            await self._enable_wal()
        await self._migrate(version)
        await self._after_open()

    async def _enable_wal(self) -> None:
        """Switch to WAL. SQLite answers "locked" at once, without its busy handler,
        when another process holds a lock during the switch (two first runs on a new
        file), so wait and retry here, up to the same busy timeout."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.005
        while True:
            try:
                async with self._connection.execute("PRAGMA journal_mode = WAL") as cursor:
                    await cursor.fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise store_error(exc, self.path, self.readonly) from exc
                if time.monotonic() >= deadline:
                    raise store_error(exc, self.path, self.readonly) from exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)

    async def _after_open(self) -> None:
        """Hook for subclasses: runs once the schema is current, before `open` ends."""

    # -- schema -------------------------------------------------------------------

    async def _check_schema(self) -> int:
        """Return the schema version, refusing databases this code must not touch."""
        # One statement, one snapshot: another process may commit its migration between
        # two separate reads, and its tables with our stale version 0 look foreign.
        row = await self._row("SELECT user_version, (SELECT count(*) FROM sqlite_master) FROM pragma_user_version")
        assert row is not None
        version: int = row[0]
        has_tables: int = row[1]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was made by a newer tuichat (schema v{version}; this one "
                f"knows up to v{SCHEMA_VERSION}). Upgrade tuichat, or use {CHOOSE} to "
                f"pick another database file.",
                self.path,
            )
        if version == 0 and has_tables:
            raise StoreError(
                f"{self.path} is an SQLite database, but not a tuichat one; it was "
                f"left untouched. Use {CHOOSE} to pick another file.",
                self.path,
            )
        return version

    async def _migrate(self, version: int) -> None:
        if version == SCHEMA_VERSION:
            return
        if self.readonly:
            raise StoreError(
                f"{self.path} needs upgrading from schema v{version} to "
                f"v{SCHEMA_VERSION}, which needs write access. Open it once without "
                f"read-only mode.",
                self.path,
            )
        # Foreign keys off (which only works outside a transaction): a migration that rebuilds
        # a table drops the old one, which must not cascade to the rows that refer to it. What
        # the scripts leave behind is checked before the commit instead.
        await self._run("PRAGMA foreign_keys = OFF")
        try:
            async with self.transaction():
                # Another process may have migrated while we waited for the write lock.
                version = await self._check_schema()
                for script in MIGRATIONS[version:]:
                    for statement in statements(script):
                        await self._run(statement)
                if await self._row("PRAGMA foreign_key_check") is not None:
                    raise StoreError(f"Upgrading {self.path} to schema v{SCHEMA_VERSION} broke a reference between rows; it was left unchanged.", self.path)
                await self._run(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            await self._run("PRAGMA foreign_keys = ON")

    # -- transactions -------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self, wait: float | None = None) -> AsyncIterator[None]:
        """`BEGIN IMMEDIATE` ... `COMMIT`, or `ROLLBACK` if the block raises.

        Inside an open transaction of the same task this joins it: the outermost
        block commits or rolls back everything.

        `wait`: seconds to wait for another process's write lock, instead of the busy
        timeout, for a writer that would rather retry later than hold the connection (and so
        every other task of this process) for long; a StoreError of kind "busy" says it gave up.
        """
        if self._in_transaction():
            yield
            return
        async with self._lock:
            token = object()
            self._active_transaction = token
            reset = _current_transaction.set(token)
            try:
                # BEGIN is inside the try: if we are cancelled while it waits for the
                # write lock, it still runs later and must be rolled back.
                await self._begin(wait)
                yield
                await self._run("COMMIT")
            except BaseException:
                await self._rollback()
                raise
            finally:
                _current_transaction.reset(reset)
                self._active_transaction = None

    async def _begin(self, wait: float | None) -> None:
        if wait is None:
            await self._run("BEGIN IMMEDIATE")
            return
        await self._run(f"PRAGMA busy_timeout = {max(0, int(wait * 1000))}")
        try:
            await self._run("BEGIN IMMEDIATE")
        finally:
            with contextlib.suppress(StoreError):
                await self._run(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def _in_transaction(self) -> bool:
        return self._active_transaction is not None and (
            _current_transaction.get() is self._active_transaction
        )

    async def _rollback(self) -> None:
        # A failure here means there was nothing left to undo (BEGIN failed, or SQLite
        # already rolled back after an I/O error); the error in flight is what matters.
        with contextlib.suppress(StoreError):
            await self._run("ROLLBACK")

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """Have the connection to ourselves, unless we already do (in a transaction)."""
        if self._in_transaction():
            yield
            return
        async with self._lock:
            yield

    # -- statements ---------------------------------------------------------------

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement, in a transaction (its own unless inside one).

        Returns the number of rows changed.
        """
        async with self.transaction():
            return await self._run(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = list(rows)  # consumed here, not lazily on aiosqlite's thread
        async with self.transaction():
            with self._errors():
                async with self._connection.executemany(sql, batch):
                    pass

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._turn():
            return await self._row(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._turn():
            with self._errors():
                return list(await self._connection.execute_fetchall(sql, params))

    async def fetchvalue(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        async with self._turn():
            return await self._value(sql, params)

    async def _run(self, sql: str, params: Params = ()) -> int:
        with self._errors():
            async with self._connection.execute(sql, params) as cursor:
                return cursor.rowcount

    async def _row(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        with self._errors():
            async with self._connection.execute(sql, params) as cursor:
                row: sqlite3.Row | None = await cursor.fetchone()
                return row

    async def _value(self, sql: str, params: Params = ()) -> Any:
        row = await self._row(sql, params)
        return None if row is None else row[0]

    @property
    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreError(f"The database {self.path} is already closed.", self.path)
        return self._conn

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise store_error(exc, self.path, self.readonly) from exc


# -- opening --------------------------------------------------------------------


async def _connect(path: Path, readonly: bool) -> aiosqlite.Connection:
    # isolation_level=None: the sqlite3 module must not open transactions behind our
    # back; `Database.transaction` issues BEGIN/COMMIT itself.
    try:
        if readonly:
            conn = await aiosqlite.connect(
                _readonly_uri(path), uri=True, isolation_level=None
            )
        else:
            conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise store_error(exc, path, readonly) from exc
    conn.row_factory = sqlite3.Row
    return conn


def _readonly_uri(path: Path) -> str:
    uri = f"{path.resolve().as_uri()}?mode=ro"
    if not os.access(path.parent, os.W_OK) and not Path(f"{path}-wal").exists():
        # Even to read a WAL database SQLite creates a -shm file, which this folder
        # refuses. With no -wal file no one is writing and the main file holds every
        # commit, so reading it as immutable (no locks, no -shm) is safe.
        uri += "&immutable=1"
    return uri
