"""`open_webui.storage.provider`: `Storage`, Open WebUI's local file storage.

Files go to `<data_dir>/uploads` (`open_webui.config.UPLOAD_DIR`), and a file's
path is its local path, as with Open WebUI's default (local) provider.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import BinaryIO

from tuichat.compat._names import module_getattr
from tuichat.compat.open_webui.config import upload_dir
from tuichat.compat.open_webui.constants import ERROR_MESSAGES

__all__ = ["LocalStorageProvider", "Storage", "StorageProvider"]

log = logging.getLogger(__name__)


class StorageProvider:
    """What every Open WebUI storage provider offers."""

    def upload_file(self, file: BinaryIO, filename: str, tags: dict[str, str]) -> tuple[bytes, str]:
        raise NotImplementedError

    def get_file(self, file_path: str) -> str:
        raise NotImplementedError

    def delete_file(self, file_path: str) -> None:
        raise NotImplementedError

    def delete_all_files(self) -> None:
        raise NotImplementedError


class LocalStorageProvider(StorageProvider):
    def upload_file(self, file: BinaryIO, filename: str, tags: dict[str, str]) -> tuple[bytes, str]:
        """Save `file`'s bytes as `filename`; returns them and the stored path.

        `tags` label objects in cloud stores; local files have none.
        """
        contents = file.read()
        if not contents:
            raise ValueError(ERROR_MESSAGES.EMPTY_CONTENT)
        path = _inside_uploads(filename)
        path.write_bytes(contents)
        return contents, str(path)

    def get_file(self, file_path: str) -> str:
        """A local path to read the file from: for local storage, the path itself."""
        return file_path

    def delete_file(self, file_path: str) -> None:
        # As Open WebUI: only the file name counts, looked up in the upload folder.
        path = upload_dir() / Path(file_path).name
        if path.is_file():
            path.unlink()
        else:
            log.warning("File %s not found in local storage.", path)

    def delete_all_files(self) -> None:
        for entry in upload_dir().iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def _inside_uploads(filename: str) -> Path:
    """`filename` in the upload folder; a name reaching outside it is refused.

    Open WebUI's callers pass plain names (`<file id>_<name>`); the check stops a
    pipe's "../" from writing anywhere else.
    """
    folder = upload_dir()
    path = folder / filename
    if path.resolve() == folder.resolve() or not path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"Invalid file name {filename!r}: it must stay inside {folder}.")
    return path


Storage = LocalStorageProvider()

__getattr__ = module_getattr(__name__)
