"""Where the shim finds tuichat's database and data folder.

The host calls `configure` before loading any pipe. The shim's modules read these
paths at each use rather than at import, because the `open_webui` modules are
imported once per process while the paths may change (tests use one database
each).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tuichat.store.paths import default_db_path


@dataclass(frozen=True, slots=True)
class CompatPaths:
    db_path: Path  # tuichat's SQLite file, opened and migrated by `Store` first
    data_dir: Path  # Open WebUI's DATA_DIR: uploads and cache live under it


_configured: CompatPaths | None = None


def configure(db_path: Path, data_dir: Path) -> None:
    """Point the `open_webui` shim at tuichat's database file and data folder."""
    global _configured
    _configured = CompatPaths(Path(db_path), Path(data_dir))


def paths() -> CompatPaths:
    """The configured paths; unconfigured, those tuichat itself uses by default."""
    if _configured is not None:
        return _configured
    db_path = default_db_path()
    return CompatPaths(db_path, db_path.parent)
