"""Open WebUI functions (pipes, filters, actions) and their valves."""

from __future__ import annotations

import builtins
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final, Literal, get_args

from tuichat.store.columns import check_fields, load_json, object_json, optional_str, require_bool, require_choice, require_str
from tuichat.store.database import Database
from tuichat.store.errors import StoreError
from tuichat.store.ids import validate_function_id

FunctionType = Literal["pipe", "filter", "action", "tool"]
FUNCTION_TYPES: Final[tuple[str, ...]] = get_args(FunctionType)

_check_type = partial(require_choice, choices=FUNCTION_TYPES, what="Function type")

_UPDATABLE: Final[Mapping[str, Callable[[object], object]]] = {
    "name": require_str,
    "type": _check_type,
    "content": require_str,
    "meta": object_json,
    "valves": object_json,
    "is_active": require_bool,
    "is_global": require_bool,
    "load_error": optional_str,
    "linked_path": optional_str,
}

# Reads and writes the sync repository in `tuichat.store.sync` shares with FunctionRepo.
GET_FUNCTION: Final = "SELECT * FROM function WHERE id = ?"
LIST_FUNCTIONS: Final = (
    "SELECT * FROM function"
    " WHERE (:type IS NULL OR type = :type) AND (NOT :active_only OR is_active)"
    " ORDER BY created_at, rowid"
)
GET_VALVES: Final = "SELECT valves FROM function WHERE id = ?"
GET_USER_VALVES: Final = "SELECT valves FROM function_user_valves WHERE function_id = ? AND user_id = ?"
SET_USER_VALVES: Final = (
    "INSERT INTO function_user_valves (function_id, user_id, valves, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (function_id, user_id) DO UPDATE"
    " SET valves = excluded.valves, updated_at = excluded.updated_at"
)

# A version's number counts the function's own versions (rows are never deleted one by one,
# only with their function), so a new function starts at #1 whatever other functions hold.
_NUMBERED: Final = (
    "SELECT *, (SELECT count(*) FROM function_version AS earlier"
    " WHERE earlier.function_id = v.function_id AND earlier.id <= v.id) AS number FROM function_version AS v"
)

# Why a version was recorded; shown in the editor's history.
# "unsaved": the editor's text when tuichat was ended (SIGTERM, SIGHUP) before it was saved.
VersionOrigin = Literal["created", "saved", "imported", "restored", "watched", "stored", "duplicated", "unsaved"]


@dataclass(frozen=True, slots=True)
class FunctionVersion:
    id: int  # the row's, unique across functions
    function_id: str
    content: str
    origin: str
    error: str | None  # why this source was refused; None when it loaded and was kept
    created_at: float  # epoch seconds
    number: int = 0  # #1 is the function's first version: what the history and the CLI show

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FunctionVersion:
        return cls(row["id"], row["function_id"], row["content"], row["origin"], row["error"], row["created_at"], row["number"])


@dataclass(frozen=True, slots=True)
class FunctionRow:
    id: str
    user_id: str | None
    name: str
    type: FunctionType
    content: str
    meta: dict[str, Any]  # {"description": str | None, "manifest": {...frontmatter...}}
    valves: dict[str, Any]
    is_active: bool
    is_global: bool
    created_at: int  # epoch seconds, as Open WebUI
    updated_at: int
    load_error: str | None  # last load/listing error, for display; None when fine
    linked_path: str | None = None  # a file kept in step with this function (live reload)

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FunctionRow:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            name=row["name"],
            type=row["type"],
            content=row["content"],
            meta=load_json(row["meta"]),
            valves=load_json(row["valves"]),
            is_active=bool(row["is_active"]),
            is_global=bool(row["is_global"]),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            load_error=row["load_error"],
            linked_path=row["linked_path"],
        )


class FunctionRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, id: str) -> FunctionRow | None:
        row = await self._db.fetchone(GET_FUNCTION, (id,))
        return None if row is None else FunctionRow.from_row(row)

    async def list(
        self, type: FunctionType | None = None, active_only: bool = False
    ) -> builtins.list[FunctionRow]:
        """Functions in the order they were added, optionally filtered."""
        rows = await self._db.fetchall(LIST_FUNCTIONS, {"type": type, "active_only": active_only})
        return [FunctionRow.from_row(row) for row in rows]

    async def count(self) -> int:
        count: int = await self._db.fetchvalue("SELECT count(*) FROM function")
        return count

    async def insert(
        self,
        id: str,
        *,
        name: str,
        type: FunctionType,
        content: str,
        meta: Mapping[str, Any] | None = None,
        valves: Mapping[str, Any] | None = None,
        is_active: bool = True,
        is_global: bool = False,
        user_id: str | None = None,
        load_error: str | None = None,
        origin: VersionOrigin = "created",
    ) -> FunctionRow:
        """Add a function, and its source as its first version; `id` is validated and
        lower-cased as Open WebUI does."""
        function_id = validate_function_id(id)
        now = int(time.time())
        values = (
            function_id,
            user_id,
            require_str(name),
            _check_type(type),
            require_str(content),
            object_json(
                {"description": None, "manifest": {}} if meta is None else meta
            ),
            object_json({} if valves is None else valves),
            require_bool(is_active),
            require_bool(is_global),
            now,
            now,
            optional_str(load_error),
        )
        async with self._db.transaction():
            if await self._exists(function_id):
                raise StoreError(
                    f"A function with id {function_id!r} already exists in "
                    f"{self._db.path}. Pass another --id, or update the existing one.",
                    self._db.path,
                )
            await self._db.execute(
                "INSERT INTO function (id, user_id, name, type, content, meta, valves,"
                " is_active, is_global, created_at, updated_at, load_error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            await self._add_version(function_id, content, origin, None)
            return await self._require(function_id)

    async def update(self, id: str, *, origin: VersionOrigin = "saved", **fields: Any) -> FunctionRow:
        """Set any of: content, name, type, meta, valves, is_active, is_global,
        load_error, linked_path. Bumps updated_at. New content is also kept as a
        version, recorded with `origin`."""
        values = check_fields(fields, _UPDATABLE)
        assignments = "".join(f"{name} = :{name}, " for name in values)
        async with self._db.transaction():
            changed = await self._db.execute(
                f"UPDATE function SET {assignments}updated_at = :now WHERE id = :id",
                {**values, "now": int(time.time()), "id": id},
            )
            if not changed:
                raise self._missing(id)
            if "content" in values:
                await self._add_version(id, values["content"], origin, None)
            return await self._require(id)

    # -- versions -----------------------------------------------------------------------
    async def add_version(self, id: str, content: str, origin: VersionOrigin, error: str | None = None) -> FunctionVersion:
        """Keep a source that was not stored as the function's content (a refused save)."""
        async with self._db.transaction():
            if not await self._exists(id):
                raise self._missing(id)
            return await self._add_version(id, require_str(content), origin, optional_str(error))

    async def _add_version(self, id: str, content: str, origin: str, error: str | None) -> FunctionVersion:
        """Record a version unless it repeats the newest one exactly (saving twice adds nothing)."""
        latest = await self._db.fetchone(f"{_NUMBERED} WHERE function_id = ? ORDER BY id DESC LIMIT 1", (id,))
        if latest is not None and latest["content"] == content and latest["error"] == error:
            return FunctionVersion.from_row(latest)
        await self._db.execute(
            "INSERT INTO function_version (function_id, content, origin, error, created_at) VALUES (?, ?, ?, ?, ?)",
            (id, content, origin, error, time.time()),
        )
        row = await self._db.fetchone(f"{_NUMBERED} WHERE function_id = ? ORDER BY id DESC LIMIT 1", (id,))
        assert row is not None
        return FunctionVersion.from_row(row)

    async def latest_version(self, id: str) -> FunctionVersion | None:
        """The newest version of a function (None: it has none)."""
        row = await self._db.fetchone(f"{_NUMBERED} WHERE function_id = ? ORDER BY id DESC LIMIT 1", (id,))
        return None if row is None else FunctionVersion.from_row(row)

    async def versions(self, id: str) -> builtins.list[FunctionVersion]:
        """Every version of a function, newest first."""
        rows = await self._db.fetchall(f"{_NUMBERED} WHERE function_id = ? ORDER BY id DESC", (id,))
        return [FunctionVersion.from_row(row) for row in rows]

    async def get_version(self, id: str, number: int) -> FunctionVersion | None:
        """Version #`number` of a function (#1 its first)."""
        row = await self._db.fetchone(
            f"{_NUMBERED} WHERE function_id = ? ORDER BY id LIMIT 1 OFFSET ?", (id, number - 1)
        ) if number >= 1 else None
        return None if row is None else FunctionVersion.from_row(row)

    async def linked(self) -> builtins.list[FunctionRow]:
        """Functions kept in step with a file on disk."""
        rows = await self._db.fetchall("SELECT * FROM function WHERE linked_path IS NOT NULL ORDER BY created_at, rowid")
        return [FunctionRow.from_row(row) for row in rows]

    async def delete(self, id: str) -> bool:
        """Delete a function and its per-user valves; False if there was none."""
        return await self._db.execute("DELETE FROM function WHERE id = ?", (id,)) > 0

    async def set_active(self, id: str, active: bool) -> FunctionRow:
        return await self.update(id, is_active=active)

    async def set_error(self, id: str, error: str | None) -> FunctionRow:
        return await self.update(id, load_error=error)

    async def get_valves(self, id: str) -> dict[str, Any]:
        text = await self._db.fetchvalue(GET_VALVES, (id,))
        if text is None:
            raise self._missing(id)
        valves: dict[str, Any] = load_json(text)
        return valves

    async def set_valves(self, id: str, valves: Mapping[str, Any]) -> None:
        await self.update(id, valves=valves)

    async def get_user_valves(self, id: str, user_id: str) -> dict[str, Any]:
        """The user's valves for a function, or {} when they never set any."""
        text = await self._db.fetchvalue(GET_USER_VALVES, (id, user_id))
        valves: dict[str, Any] = {} if text is None else load_json(text)
        return valves

    async def set_user_valves(
        self, id: str, user_id: str, valves: Mapping[str, Any]
    ) -> None:
        encoded = object_json(valves)
        async with self._db.transaction():
            if not await self._exists(id):
                raise self._missing(id)
            await self._db.execute(SET_USER_VALVES, (id, user_id, encoded, int(time.time())))

    async def _exists(self, id: str) -> bool:
        return (
            await self._db.fetchone("SELECT 1 FROM function WHERE id = ?", (id,))
            is not None
        )

    async def _require(self, id: str) -> FunctionRow:
        row = await self.get(id)
        if row is None:
            raise self._missing(id)
        return row

    def _missing(self, id: str) -> StoreError:
        return StoreError(
            f"No function with id {id!r} in {self._db.path}.", self._db.path
        )
