"""The `function` and `function_user_valves` tables, read and written without awaiting."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tuichat.store.columns import dump_json, load_json
from tuichat.store.functions import (
    GET_FUNCTION,
    GET_USER_VALVES,
    GET_VALVES,
    LIST_FUNCTIONS,
    SET_USER_VALVES,
    FunctionRow,
)
from tuichat.store.sync.connection import SyncDatabase


class SyncFunctions:
    def __init__(self, db: SyncDatabase) -> None:
        self._db = db

    def get(self, id: str) -> FunctionRow | None:
        row = self._db.fetchone(GET_FUNCTION, (id,))
        return None if row is None else FunctionRow.from_row(row)

    def list(self, type: str | None = None, active_only: bool = False) -> list[FunctionRow]:
        """Functions in the order they were added, optionally filtered."""
        rows = self._db.fetchall(LIST_FUNCTIONS, {"type": type, "active_only": active_only})
        return [FunctionRow.from_row(row) for row in rows]

    def valves(self, id: str) -> dict[str, Any] | None:
        """The function's admin valves; None if there is no such function."""
        text = self._db.fetchvalue(GET_VALVES, (id,))
        return None if text is None else load_json(text) or {}

    def set_valves(self, id: str, valves: Mapping[str, Any]) -> bool:
        """Store the admin valves as given; False if there is no such function."""
        with self._db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE function SET valves = ?, updated_at = ? WHERE id = ?",
                (dump_json(dict(valves)), int(time.time()), id),
            )
            return cursor.rowcount > 0

    def user_valves(self, id: str, user_id: str) -> dict[str, Any]:
        """The user's valves for a function, or {} when they never set any."""
        text = self._db.fetchvalue(GET_USER_VALVES, (id, user_id))
        return {} if text is None else load_json(text) or {}

    def set_user_valves(self, id: str, user_id: str, valves: Mapping[str, Any]) -> bool:
        """Store the user's valves; False if there is no such function."""
        with self._db.transaction() as conn:
            if conn.execute(GET_VALVES, (id,)).fetchone() is None:
                return False
            conn.execute(SET_USER_VALVES, (id, user_id, dump_json(dict(valves)), int(time.time())))
            return True
