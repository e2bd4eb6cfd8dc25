"""`open_webui.models.files`: `Files`, the records of uploaded files.

tuichat has no file table of its own, so the records live in `compat_file`, which
mirrors Open WebUI's `file` table (see `tuichat.store.sync.files`; the bytes go
through `open_webui.storage.provider.Storage`). Methods work awaited or called
directly; see `open_webui.models.users` for the conventions.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from tuichat.compat._awaitable import (
    AwaitableBool,
    AwaitableList,
    NotFound,
    SelfAwaitable,
    or_not_found,
)
from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current
from tuichat.store.sync import FileRecord

__all__ = [
    "FileForm",
    "FileMeta",
    "FileModel",
    "FileModelResponse",
    "FileUpdateForm",
    "Files",
    "FilesTable",
]

class FileModel(SelfAwaitable, BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    hash: str | None = None

    filename: str
    path: str | None = None

    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None

    created_at: int | None  # epoch seconds
    updated_at: int | None


class FileMeta(BaseModel):
    name: str | None = None
    content_type: str | None = None
    size: int | None = None

    model_config = ConfigDict(extra="allow")


class FileModelResponse(SelfAwaitable, BaseModel):
    id: str
    user_id: str
    hash: str | None = None

    filename: str
    data: dict[str, Any] | None = None
    meta: FileMeta | None = None

    created_at: int  # epoch seconds
    updated_at: int | None = None

    model_config = ConfigDict(extra="allow")


class FileForm(BaseModel):
    id: str
    hash: str | None = None
    filename: str
    path: str
    data: dict[str, Any] = {}
    meta: dict[str, Any] = {}


class FileUpdateForm(BaseModel):
    hash: str | None = None
    data: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None


class FilesTable:
    def insert_new_file(
        self, user_id: str, form_data: FileForm, db: object = None
    ) -> FileModel | NotFound:
        """Record a file; NOT_FOUND (None) if its id is taken, as Open WebUI."""
        now = int(time.time())
        file = FileModel(**form_data.model_dump(), user_id=user_id, created_at=now, updated_at=now)
        return file if current().tables.files.insert(file.model_dump()) else or_not_found(None)

    def get_file_by_id(self, id: str, db: object = None) -> FileModel | NotFound:
        return _found(current().tables.files.get(id))

    def get_file_by_id_and_user_id(
        self, id: str, user_id: str, db: object = None
    ) -> FileModel | NotFound:
        file = self.get_file_by_id(id)
        return file if isinstance(file, FileModel) and file.user_id == user_id else or_not_found(None)

    def get_files(self, db: object = None) -> AwaitableList[FileModel]:
        return AwaitableList(_files())

    def get_files_by_ids(self, ids: Iterable[str], db: object = None) -> AwaitableList[FileModel]:
        """Most recently updated first, as Open WebUI."""
        wanted = set(ids)
        files = [file for file in _files() if file.id in wanted]
        files.sort(key=lambda file: file.updated_at or 0, reverse=True)
        return AwaitableList(files)

    def get_files_by_user_id(self, user_id: str, db: object = None) -> AwaitableList[FileModel]:
        return AwaitableList(_files(user_id))

    def update_file_by_id(
        self, id: str, form_data: FileUpdateForm, db: object = None
    ) -> FileModel | NotFound:
        """Set the hash if given; merge the given data and meta into the stored ones."""
        return _found(
            current().tables.files.update(id, hash=form_data.hash, data=form_data.data, meta=form_data.meta)
        )

    def update_file_hash_by_id(
        self, id: str, hash: str | None, db: object = None
    ) -> FileModel | NotFound:
        return _found(current().tables.files.update(id, hash=hash, replace_hash=True))

    def update_file_data_by_id(
        self, id: str, data: Mapping[str, Any], db: object = None
    ) -> FileModel | NotFound:
        return _found(current().tables.files.update(id, data=data))

    def update_file_metadata_by_id(
        self, id: str, meta: Mapping[str, Any], db: object = None
    ) -> FileModel | NotFound:
        return _found(current().tables.files.update(id, meta=meta))

    def delete_file_by_id(self, id: str, db: object = None) -> AwaitableBool:
        """Forget the record (the stored bytes stay: `Storage.delete_file` removes them)."""
        current().tables.files.delete(id)
        return AwaitableBool(True)

    def delete_all_files(self, db: object = None) -> AwaitableBool:
        current().tables.files.delete_all()
        return AwaitableBool(True)


Files = FilesTable()


def _files(user_id: str | None = None) -> list[FileModel]:
    return [FileModel.model_validate(record) for record in current().tables.files.list(user_id)]


def _found(record: FileRecord | None) -> FileModel | NotFound:
    return or_not_found(None if record is None else FileModel.model_validate(record))


__getattr__ = module_getattr(__name__)
