"""The single local user, shaped like Open WebUI's UserModel (0.12.4).

Pipes receive it as `__user__`, so the keys, their order and their null-ness follow
`UserModel.model_dump()` for a freshly signed-up admin.
"""

from __future__ import annotations

import getpass
import sqlite3
import time
import uuid
from typing import Any, Final

from tuichat.store.columns import load_json
from tuichat.store.database import Database
from tuichat.store.errors import StoreError

USER_FIELDS: Final = (
    "id", "email", "username", "role", "name", "profile_image_url",
    "profile_banner_image_url", "bio", "gender", "date_of_birth", "timezone",
    "presence_state", "status_emoji", "status_message", "status_expires_at",
    "info", "settings", "oauth", "scim", "last_active_at", "updated_at", "created_at",
)  # fmt: skip
JSON_FIELDS: Final = frozenset({"info", "settings", "oauth", "scim"})
SELECT_USERS: Final = f"SELECT {', '.join(USER_FIELDS)} FROM user"
# tuichat's one user is the first row in this order: every reader of the table, async
# or not, finds the local user through LOCAL_USER.
IN_ORDER: Final = "ORDER BY created_at, rowid"
LOCAL_USER: Final = f"{SELECT_USERS} {IN_ORDER} LIMIT 1"


def _login_name() -> str:
    try:
        return getpass.getuser() or "User"
    except (OSError, KeyError, ImportError):
        # No $USER/$LOGNAME and no passwd entry (e.g. a container's arbitrary uid).
        return "User"


def _new_local_user() -> dict[str, Any]:
    now = int(time.time())
    user: dict[str, Any] = dict.fromkeys(USER_FIELDS)
    user.update(
        id=uuid.uuid4().hex,
        email="admin@localhost",
        role="admin",
        name=_login_name(),
        profile_image_url="/user.png",
        last_active_at=now,
        updated_at=now,
        created_at=now,
    )
    return user


def decode_user(row: sqlite3.Row) -> dict[str, Any]:
    return {
        field: load_json(row[field]) if field in JSON_FIELDS else row[field]
        for field in USER_FIELDS
    }


class UserRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def local(self) -> dict[str, Any]:
        """The local user as Open WebUI's `UserModel.model_dump()` would give it."""
        row = await self._db.fetchone(LOCAL_USER)
        if row is None:
            raise StoreError(
                f"{self._db.path} has no local user yet; open it once without "
                f"read-only mode.",
                self._db.path,
            )
        return decode_user(row)

    async def ensure_local(self) -> None:
        """Create the local user unless there is one (called by `Store.open`)."""
        if await self._db.fetchone(LOCAL_USER) is not None:
            return
        async with self._db.transaction():
            # Another process opening the same new database may have been first.
            if await self._db.fetchone(LOCAL_USER) is not None:
                return
            user = _new_local_user()
            await self._db.execute(
                f"INSERT INTO user ({', '.join(USER_FIELDS)})"
                f" VALUES ({', '.join('?' * len(USER_FIELDS))})",
                [user[field] for field in USER_FIELDS],
            )
