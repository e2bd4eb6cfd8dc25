"""Where the database lives."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "TUICHAT_DB"


def default_db_path() -> Path:
    """`$TUICHAT_DB` if set (and not empty), else the per-user data folder."""
    override = os.environ.get(ENV_VAR)
    if override:
        # Quoted values such as TUICHAT_DB="~/chats.db" reach us unexpanded.
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("tuichat")) / "tuichat.db"
