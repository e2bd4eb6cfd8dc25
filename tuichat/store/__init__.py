"""SQLite storage for tuichat: functions, chats, the local user and settings.

    async with await Store.open(default_db_path()) as store:
        chat = await store.chats.create("Hello")

Never imports textual: the CLI and tests use it without the TUI.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from tuichat.store.chats import ChatRepo, ChatRow, MessageRow
from tuichat.store.database import Database
from tuichat.store.drafts import DraftRepo
from tuichat.store.errors import StoreError
from tuichat.store.files import FileRepo, FileRow
from tuichat.store.functions import FunctionRepo, FunctionRow, FunctionVersion
from tuichat.store.ids import (
    InvalidFunctionId,
    function_id_from_filename,
    validate_function_id,
)
from tuichat.store.model_settings import ModelSettings, ModelSettingsRepo
from tuichat.store.paths import default_db_path
from tuichat.store.privacy import exposure_warning
from tuichat.store.settings import SettingsRepo
from tuichat.store.tags import TagRepo
from tuichat.store.users import UserRepo

__all__ = [
    "ChatRow",
    "FileRow",
    "FunctionRow",
    "FunctionVersion",
    "InvalidFunctionId",
    "MessageRow",
    "ModelSettings",
    "Store",
    "StoreError",
    "default_db_path",
    "function_id_from_filename",
    "validate_function_id",
]


class Store(Database):
    """The database with its repositories: `functions`, `chats`, `users`, `settings`, `drafts`,
    `tags`, `model_settings`, `files` (attachments)."""

    def __init__(
        self, connection: aiosqlite.Connection, path: Path, readonly: bool
    ) -> None:
        super().__init__(connection, path, readonly)
        self.functions = FunctionRepo(self)
        self.chats = ChatRepo(self)
        self.users = UserRepo(self)
        self.settings = SettingsRepo(self)
        self.drafts = DraftRepo(self)
        self.tags = TagRepo(self)
        self.model_settings = ModelSettingsRepo(self)
        self.files = FileRepo(self)
        # Said once, by the front end: the file is readable by other users (`privacy`).
        self.exposure: str | None = None

    async def _after_open(self) -> None:
        if not self.readonly:
            await self.users.ensure_local()
            # Replies whose process died mid-stream (kill -9, a crash) stop showing as streaming.
            await self.chats.recover_interrupted()
            self.exposure = await exposure_warning(self.path, self.settings)
