"""`open_webui.models.functions`: `Functions`, over tuichat's `function` table.

Admin valves are the table's `valves` column. User valves, which Open WebUI keeps
in the user's settings, are tuichat's `function_user_valves` rows, the ones the
host gives pipes as `__user__["valves"]`. Methods work awaited or called directly;
see `open_webui.models.users` for the conventions.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from tuichat.compat._awaitable import (
    AwaitableDict,
    AwaitableList,
    NotFound,
    SelfAwaitable,
    or_not_found,
)
from tuichat.compat._db import connect, fetch_all, local_user_id
from tuichat.compat._names import module_getattr
from tuichat.store.columns import dump_json, load_json

__all__ = [
    "FunctionForm",
    "FunctionMeta",
    "FunctionModel",
    "FunctionResponse",
    "FunctionValves",
    "Functions",
    "FunctionsTable",
]


class FunctionMeta(BaseModel):
    description: str | None = None
    manifest: dict[str, Any] | None = {}
    model_config = ConfigDict(extra="allow")  # e.g. "toggle" for filters


class FunctionModel(SelfAwaitable, BaseModel):
    id: str
    user_id: str
    name: str
    type: str
    content: str
    meta: FunctionMeta
    is_active: bool = False
    is_global: bool = False
    updated_at: int  # epoch seconds
    created_at: int

    model_config = ConfigDict(from_attributes=True)


class FunctionResponse(BaseModel):
    id: str
    user_id: str
    type: str
    name: str
    meta: FunctionMeta
    is_active: bool
    is_global: bool
    updated_at: int
    created_at: int


class FunctionForm(BaseModel):
    id: str
    name: str
    content: str
    meta: FunctionMeta


class FunctionValves(BaseModel):
    valves: dict[str, Any] | None = None


class FunctionsTable:
    def get_function_by_id(self, id: str, db: object = None) -> FunctionModel | NotFound:
        functions = _select("WHERE id = ?", (id,))
        return or_not_found(functions[0] if functions else None)

    def get_functions(
        self, active_only: bool = False, db: object = None
    ) -> AwaitableList[FunctionModel]:
        """Every function, in the order they were added."""
        return AwaitableList(_select(active_only=active_only))

    def get_functions_by_type(
        self, type: str, active_only: bool = False, db: object = None
    ) -> AwaitableList[FunctionModel]:
        return AwaitableList(_select("WHERE type = ?", (type,), active_only=active_only))

    def get_global_filter_functions(self, db: object = None) -> AwaitableList[FunctionModel]:
        return AwaitableList(_select("WHERE type = 'filter' AND is_global", active_only=True))

    def get_global_action_functions(self, db: object = None) -> AwaitableList[FunctionModel]:
        return AwaitableList(_select("WHERE type = 'action' AND is_global", active_only=True))

    def get_function_valves_by_id(self, id: str, db: object = None) -> AwaitableDict | NotFound:
        """The stored admin valves ({} when none are set); NOT_FOUND for no such function."""
        rows = fetch_all("SELECT valves FROM function WHERE id = ?", (id,))
        return or_not_found(AwaitableDict(load_json(rows[0]["valves"]) or {}) if rows else None)

    def update_function_valves_by_id(
        self, id: str, valves: Mapping[str, Any], db: object = None
    ) -> FunctionModel | NotFound:
        """Store the admin valves as given; the next call of the function gets them."""
        with connect(write=True) as conn:
            conn.execute(
                "UPDATE function SET valves = ?, updated_at = ? WHERE id = ?",
                (dump_json(dict(valves)), int(time.time()), id),
            )
        return self.get_function_by_id(id)

    def get_user_valves_by_id_and_user_id(
        self, id: str, user_id: str, db: object = None
    ) -> AwaitableDict | NotFound:
        """The user's valves for the function ({} when they set none); NOT_FOUND for
        an unknown user."""
        with connect() as conn:
            if user_id != local_user_id(conn):
                return or_not_found(None)
            row = conn.execute(
                "SELECT valves FROM function_user_valves WHERE function_id = ? AND user_id = ?",
                (id, user_id),
            ).fetchone()
        return AwaitableDict({} if row is None else load_json(row["valves"]) or {})

    def update_user_valves_by_id_and_user_id(
        self, id: str, user_id: str, valves: Mapping[str, Any], db: object = None
    ) -> AwaitableDict | NotFound:
        """Store the user's valves; returns them, or NOT_FOUND for an unknown user or
        function."""
        with connect(write=True) as conn:
            known = conn.execute("SELECT 1 FROM function WHERE id = ?", (id,)).fetchone()
            if known is None or user_id != local_user_id(conn):
                return or_not_found(None)
            conn.execute(
                "INSERT INTO function_user_valves (function_id, user_id, valves, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (function_id, user_id) DO UPDATE"
                " SET valves = excluded.valves, updated_at = excluded.updated_at",
                (id, user_id, dump_json(dict(valves)), int(time.time())),
            )
        return AwaitableDict(valves)


Functions = FunctionsTable()


def _select(
    where: str = "", params: tuple[Any, ...] = (), *, active_only: bool = False
) -> list[FunctionModel]:
    if active_only:
        where = f"{where} AND is_active" if where else "WHERE is_active"
    with connect() as conn:
        owner = local_user_id(conn) or ""
        rows = conn.execute(
            f"SELECT * FROM function {where} ORDER BY created_at, rowid", params
        ).fetchall()
    return [_function(row, owner) for row in rows]


def _function(row: sqlite3.Row, owner: str) -> FunctionModel:
    return FunctionModel(
        id=row["id"],
        # tuichat records no creator for functions it was given; its one user owns them.
        user_id=row["user_id"] or owner,
        name=row["name"],
        type=row["type"],
        content=row["content"],
        meta=FunctionMeta.model_validate(load_json(row["meta"]) or {}),
        is_active=bool(row["is_active"]),
        is_global=bool(row["is_global"]),
        updated_at=row["updated_at"] or 0,
        created_at=row["created_at"] or 0,
    )


__getattr__ = module_getattr(__name__)
