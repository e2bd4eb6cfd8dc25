"""The database file is private: it holds valves (API keys) and every chat.

A new file is created for its owner alone (0600; SQLite gives its -wal and -shm files the
same mode). A file others can already read is not changed behind the user's back: the
first open says so, once, with the command that fixes it, and says it again only if the
file turns readable again after being made private.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from tuichat.store.settings import SettingsRepo

WARNED_SETTING: Final = "readable_db_warned"  # the mode last warned about


def create_private(path: Path) -> None:
    """Create `path` empty, readable by its owner only, unless it exists (SQLite fills it)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def others_can_read(path: Path) -> int | None:
    """The file's permission bits if users other than its owner and group can read it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & stat.S_IROTH else None


async def exposure_warning(path: Path, settings: SettingsRepo) -> str | None:
    """What to tell the user the first time the database is seen readable by others."""
    mode = others_can_read(path)
    warned = await settings.get(WARNED_SETTING)
    if mode is None:
        if warned is not None:  # private now: a later slip is worth a warning again
            await settings.set(WARNED_SETTING, None)
        return None
    if warned == mode:
        return None
    await settings.set(WARNED_SETTING, mode)
    return (
        f"{path} can be read by other users (mode {mode:o}), and it holds your pipes' valves "
        f"(API keys) and your chats. Make it private with: chmod 600 {path} "
        "(this is said once)"
    )
