"""The `user` table, read and written without awaiting."""

from __future__ import annotations

import datetime
import sqlite3
from collections.abc import Mapping
from typing import Any, Final

from tuichat.store.columns import dump_json, load_json
from tuichat.store.sync.connection import SyncDatabase
from tuichat.store.users import IN_ORDER, JSON_FIELDS, LOCAL_USER, SELECT_USERS, USER_FIELDS, decode_user

_UPDATABLE: Final = frozenset(USER_FIELDS) - {"id"}


class SyncUsers:
    """Users as `UserRepo.local` gives the local one: dicts of `USER_FIELDS`, JSON decoded."""

    def __init__(self, db: SyncDatabase) -> None:
        self._db = db

    def local(self) -> dict[str, Any] | None:
        row = self._db.fetchone(LOCAL_USER)
        return None if row is None else decode_user(row)

    def local_id(self) -> str | None:
        user = self.local()
        return None if user is None else str(user["id"])

    def all(self) -> list[dict[str, Any]]:
        """Every user, the local one first."""
        return self._select()

    def get(self, id: str) -> dict[str, Any] | None:
        return _first(self._select("WHERE id = ?", (id,)))

    def by_email(self, email: str) -> dict[str, Any] | None:
        """Case-insensitive, as Open WebUI matches emails."""
        return _first(self._select("WHERE lower(email) = lower(?)", (email,)))

    def first_admin(self) -> dict[str, Any] | None:
        return _first(self._select("WHERE role = 'admin'"))

    def update(self, id: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
        """Set the given fields (any but `id`) as they are; None if there is no such user."""
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"Cannot update user field(s): {', '.join(sorted(unknown))}")
        with self._db.transaction() as conn:
            return _update(conn, id, dict(values))

    def merge_settings(self, id: str, changes: Mapping[str, Any]) -> dict[str, Any] | None:
        """Merge `changes` into the user's settings, top-level keys replaced."""
        with self._db.transaction() as conn:
            row = conn.execute("SELECT settings FROM user WHERE id = ?", (id,)).fetchone()
            if row is None:
                return None
            settings = {**(load_json(row["settings"]) or {}), **changes}
            return _update(conn, id, {"settings": settings})

    def _select(self, where: str = "", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [decode_user(row) for row in self._db.fetchall(f"{SELECT_USERS} {where} {IN_ORDER}", params)]


def _first(users: list[dict[str, Any]]) -> dict[str, Any] | None:
    return users[0] if users else None


def _update(conn: sqlite3.Connection, id: str, values: dict[str, Any]) -> dict[str, Any] | None:
    if values:
        assignments = ", ".join(f"{field} = :{field}" for field in values)
        encoded = {field: _column(field, value) for field, value in values.items()}
        conn.execute(f"UPDATE user SET {assignments} WHERE id = :id", {**encoded, "id": id})
    row = conn.execute(f"{SELECT_USERS} WHERE id = ?", (id,)).fetchone()
    return None if row is None else decode_user(row)


def _column(field: str, value: Any) -> Any:
    if field in JSON_FIELDS:
        return None if value is None else dump_json(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
