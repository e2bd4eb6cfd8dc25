"""`open_webui.models.functions`: `Functions`, over tuichat's `function` table.

Admin valves are the table's `valves` column. User valves, which Open WebUI keeps
in the user's settings, are tuichat's `function_user_valves` rows, the ones the
host gives pipes as `__user__["valves"]`. Methods work awaited or called directly;
see `open_webui.models.users` for the conventions.
"""

from __future__ import annotations

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
from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current
from tuichat.store import FunctionRow

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
        tables = current().tables
        row = tables.functions.get(id)
        return or_not_found(None if row is None else _function(row, tables.users.local_id()))

    def get_functions(
        self, active_only: bool = False, db: object = None
    ) -> AwaitableList[FunctionModel]:
        """Every function, in the order they were added."""
        return AwaitableList(_functions(active_only=active_only))

    def get_functions_by_type(
        self, type: str, active_only: bool = False, db: object = None
    ) -> AwaitableList[FunctionModel]:
        return AwaitableList(_functions(type, active_only=active_only))

    def get_global_filter_functions(self, db: object = None) -> AwaitableList[FunctionModel]:
        return AwaitableList(f for f in _functions("filter", active_only=True) if f.is_global)

    def get_global_action_functions(self, db: object = None) -> AwaitableList[FunctionModel]:
        return AwaitableList(f for f in _functions("action", active_only=True) if f.is_global)

    def get_function_valves_by_id(self, id: str, db: object = None) -> AwaitableDict | NotFound:
        """The stored admin valves ({} when none are set); NOT_FOUND for no such function."""
        valves = current().tables.functions.valves(id)
        return or_not_found(None if valves is None else AwaitableDict(valves))

    def update_function_valves_by_id(
        self, id: str, valves: Mapping[str, Any], db: object = None
    ) -> FunctionModel | NotFound:
        """Store the admin valves as given; the next call of the function gets them."""
        current().tables.functions.set_valves(id, valves)
        return self.get_function_by_id(id)

    def get_user_valves_by_id_and_user_id(
        self, id: str, user_id: str, db: object = None
    ) -> AwaitableDict | NotFound:
        """The user's valves for the function ({} when they set none); NOT_FOUND for
        an unknown user."""
        tables = current().tables
        if user_id != tables.users.local_id():
            return or_not_found(None)
        return AwaitableDict(tables.functions.user_valves(id, user_id))

    def update_user_valves_by_id_and_user_id(
        self, id: str, user_id: str, valves: Mapping[str, Any], db: object = None
    ) -> AwaitableDict | NotFound:
        """Store the user's valves; returns them, or NOT_FOUND for an unknown user or
        function."""
        tables = current().tables
        if user_id != tables.users.local_id() or not tables.functions.set_user_valves(id, user_id, valves):
            return or_not_found(None)
        return AwaitableDict(valves)


Functions = FunctionsTable()


def _functions(type: str | None = None, *, active_only: bool) -> list[FunctionModel]:
    tables = current().tables
    owner = tables.users.local_id()
    return [_function(row, owner) for row in tables.functions.list(type, active_only)]


def _function(row: FunctionRow, owner: str | None) -> FunctionModel:
    return FunctionModel(
        id=row.id,
        # tuichat records no creator for functions it was given; its one user owns them.
        user_id=row.user_id or owner or "",
        name=row.name,
        type=row.type,
        content=row.content,
        meta=FunctionMeta.model_validate(row.meta or {}),
        is_active=row.is_active,
        is_global=row.is_global,
        updated_at=row.updated_at or 0,
        created_at=row.created_at or 0,
    )


__getattr__ = module_getattr(__name__)
