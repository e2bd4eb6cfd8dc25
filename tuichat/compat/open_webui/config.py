"""`open_webui.config`: the data folders, and a minimal `PersistentConfig`.

`DATA_DIR`, `UPLOAD_DIR` and `CACHE_DIR` are the data folder of the host running the
pipe (see `tuichat.compat.binding`), looked up at each access. Open WebUI creates the upload and cache folders when
this module is imported, and pipes write into them without checking, so they are
created when first asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Generic, TypeVar

from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current

# The folders are computed by the module's __getattr__.
__all__ = ["CACHE_DIR", "DATA_DIR", "UPLOAD_DIR", "PersistentConfig"]  # noqa: F822

T = TypeVar("T")


class PersistentConfig(Generic[T]):
    """A setting: its environment variable's value, or the default given.

    Open WebUI also keeps these in its database and shares updates across workers;
    tuichat has no admin settings to persist, so `save` and `update` change nothing
    beyond this process.
    """

    def __init__(self, env_name: str, config_path: str, env_value: T) -> None:
        self.env_name = env_name
        self.config_path = config_path
        self.env_value = env_value
        self.value = env_value

    def __str__(self) -> str:
        return str(self.value)

    def update(self) -> None:
        """Re-read the value from the shared config; here there is none."""

    def save(self) -> None:
        """Store the current value; tuichat keeps it in memory only."""


def upload_dir() -> Path:
    return _made(current().data_dir / "uploads")


def cache_dir() -> Path:
    return _made(current().data_dir / "cache")


def _made(folder: Path) -> Path:
    os.makedirs(folder, exist_ok=True)
    return folder


__getattr__ = module_getattr(
    __name__,
    {"DATA_DIR": lambda: current().data_dir, "UPLOAD_DIR": upload_dir, "CACHE_DIR": cache_dir},
)
