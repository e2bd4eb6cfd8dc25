"""Blocking access to the tables Open WebUI pipes reach through `open_webui.models`.

Pipes call those stand-ins without awaiting, from the event loop thread and from
worker threads, so they cannot share `Store`'s aiosqlite connection. This is the
same store by another path: the same file, the same row types and, where the async
repositories have them, the same statements (the local user above all).

    tables = SyncStore(store.path)
    tables.users.local() == await store.users.local()
"""

from __future__ import annotations

from pathlib import Path

from tuichat.store.sync.chats import SyncChats
from tuichat.store.sync.connection import SyncDatabase
from tuichat.store.sync.files import FILE_COLUMNS, FileRecord, SyncFiles
from tuichat.store.sync.functions import SyncFunctions
from tuichat.store.sync.users import SyncUsers

__all__ = ["FILE_COLUMNS", "FileRecord", "SyncStore"]


class SyncStore:
    """The repositories over one database file that `Store.open` has made and migrated."""

    def __init__(self, path: Path) -> None:
        db = SyncDatabase(path)
        self.path = path
        self.users = SyncUsers(db)
        self.functions = SyncFunctions(db)
        self.chats = SyncChats(db)
        self.files = SyncFiles(db)
