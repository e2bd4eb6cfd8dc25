"""Recovery files: where a reply goes when the database cannot take it and tuichat must end.

A reply is kept in memory and its save retried while tuichat runs (a full disk, a lock held
by another process); if tuichat has to end first, what it has is written as JSON to the
first of these folders that takes it: `tuichat-recovery/` beside the database, then the
same under the temporary folder (often another disk). The caller says where it went.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Final

FOLDER: Final = "tuichat-recovery"
FORMAT: Final = "tuichat.unsaved-reply"


def recovery_folders(db_path: Path) -> list[Path]:
    return [db_path.parent / FOLDER, Path(tempfile.gettempdir()) / FOLDER]


def write_recovery(db_path: Path, record: dict[str, Any]) -> Path:
    """Write `record` (plus the database's path and the time) to a new file; its path.
    Raises the last OSError when no folder takes it."""
    data = {"format": FORMAT, "db": str(db_path), "written_at": time.time(), **record}
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    name = f"reply-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{str(record.get('message_id') or 'new')[:8]}.json"
    error: OSError | None = None
    for folder in recovery_folders(db_path):
        path = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            return path
        except OSError as exc:
            error = exc
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)  # half written: a full disk
    assert error is not None
    raise error
