"""`open_webui.models.users`: `Users`, over tuichat's single local user.

tuichat has one user: the single row of its `user` table, the one pipes receive as
`__user__`. Every `Users` method works awaited (`await Users.get_user_by_id(id)`,
Open WebUI 0.12) and called directly (`Users.get_user_by_id(id).name`, older
pipes); a lookup that finds nothing returns `NOT_FOUND`, which is `== None` and
falsy, and `None` once awaited (see `tuichat.compat._awaitable`). Open WebUI's
`db` argument (a SQLAlchemy session) is accepted and ignored. Database errors
raise rather than turn into None, so a broken database is never taken for a
missing user.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from tuichat.compat._awaitable import (
    AwaitableBool,
    AwaitableDict,
    AwaitableInt,
    AwaitableList,
    AwaitableStr,
    NotFound,
    SelfAwaitable,
    or_not_found,
)
from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current

__all__ = ["User", "UserModel", "UserSettings", "Users", "UsersTable"]



class UserSettings(BaseModel):
    ui: dict[str, Any] | None = {}
    model_config = ConfigDict(extra="allow")


class UserModel(SelfAwaitable, BaseModel):
    """Open WebUI 0.12.4's UserModel: `model_dump()` is what pipes get as `__user__`."""

    id: str

    email: str
    username: str | None = None
    role: str = "pending"

    name: str

    profile_image_url: str | None = None
    profile_banner_image_url: str | None = None

    bio: str | None = None
    gender: str | None = None
    date_of_birth: datetime.date | None = None
    timezone: str | None = None

    presence_state: str | None = None
    status_emoji: str | None = None
    status_message: str | None = None
    status_expires_at: int | None = None

    info: dict[str, Any] | None = None
    settings: UserSettings | None = None

    oauth: dict[str, Any] | None = None
    scim: dict[str, Any] | None = None

    last_active_at: int  # epoch seconds
    updated_at: int
    created_at: int

    model_config = ConfigDict(from_attributes=True)

    @model_validator(mode="after")
    def _default_profile_image(self) -> Self:
        if not self.profile_image_url:
            self.profile_image_url = f"/api/v1/users/{self.id}/profile/image"
        return self


# In Open WebUI `User` is the SQLAlchemy table class; pipes only name it in type hints.
User = UserModel


class UsersTable:
    def get_user_by_id(self, id: str, db: object = None) -> UserModel | NotFound:
        return _found(current().tables.users.get(id))

    def get_user_by_email(self, email: str, db: object = None) -> UserModel | NotFound:
        """Case-insensitive, as Open WebUI."""
        return _found(current().tables.users.by_email(email))

    def get_first_user(self, db: object = None) -> UserModel | NotFound:
        return _found(current().tables.users.local())

    def get_super_admin_user(self, db: object = None) -> UserModel | NotFound:
        return _found(current().tables.users.first_admin())

    def get_users(
        self,
        filter: Mapping[str, Any] | None = None,
        skip: int | None = None,
        limit: int | None = None,
        db: object = None,
    ) -> AwaitableDict:
        """`{"users": [...], "total": n}`; of `filter`, `query` (a name or email part)
        and `roles` are applied. `total` counts the filtered users before paging."""
        users = [user for user in _all() if _matches(user, filter or {})]
        start = skip or 0
        page = users[start : start + limit if limit is not None else None]
        return AwaitableDict(users=AwaitableList(page), total=len(users))

    def get_users_by_user_ids(
        self, user_ids: Iterable[str], db: object = None
    ) -> AwaitableList[UserModel]:
        wanted = set(user_ids)
        return AwaitableList(user for user in _all() if user.id in wanted)

    def get_valid_user_ids(self, user_ids: Iterable[str], db: object = None) -> AwaitableList[str]:
        return AwaitableList(user.id for user in self.get_users_by_user_ids(user_ids))

    def get_num_users(self, db: object = None) -> AwaitableInt:
        return AwaitableInt(len(_all()))

    def has_users(self, db: object = None) -> AwaitableBool:
        return AwaitableBool(bool(_all()))

    def get_user_role_by_id(self, id: str, db: object = None) -> AwaitableStr | NotFound:
        user = self.get_user_by_id(id)
        return AwaitableStr(user.role) if isinstance(user, UserModel) else user

    def update_user_by_id(
        self, id: str, updated: Mapping[str, Any], db: object = None
    ) -> UserModel | NotFound:
        """Set the given columns (any user field but `id`) as they are."""
        values = {field: _plain(value) for field, value in updated.items()}
        return _found(current().tables.users.update(id, values))

    def update_user_settings_by_id(
        self, id: str, updated: Mapping[str, Any], db: object = None
    ) -> UserModel | NotFound:
        """Merge `updated` into the user's settings, top-level keys replaced."""
        return _found(current().tables.users.merge_settings(id, updated))


Users = UsersTable()


def _all() -> list[UserModel]:
    return [UserModel.model_validate(user) for user in current().tables.users.all()]


def _found(user: dict[str, Any] | None) -> UserModel | NotFound:
    return or_not_found(None if user is None else UserModel.model_validate(user))


def _plain(value: Any) -> Any:
    """A value as the store takes it: pydantic models as their dicts."""
    return value.model_dump() if isinstance(value, BaseModel) else value


def _matches(user: UserModel, filter: Mapping[str, Any]) -> bool:
    query = str(filter.get("query") or "").lower()
    if query and query not in user.name.lower() and query not in user.email.lower():
        return False
    roles = filter.get("roles") or []
    included = [role for role in roles if not role.startswith("!")]
    excluded = {role[1:] for role in roles if role.startswith("!")}
    return (not included or user.role in included) and user.role not in excluded


__getattr__ = module_getattr(__name__)
