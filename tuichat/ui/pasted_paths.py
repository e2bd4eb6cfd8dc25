"""Is a paste a file path (or a few)? A file dragged into a terminal arrives as a paste of its
path: quoted ('/tmp/my notes.md'), with escaped spaces (/tmp/my\\ notes.md) or as a
file:// URL, several separated by spaces or lines. Such a paste is offered as attachments;
anything else, or a paste naming something that is not an existing file, stays text.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from urllib.parse import unquote, urlparse

MOST = 10  # more paths than this in one paste is a list being pasted, not files dragged in
LONGEST = 4096  # characters: a long paste is text


def pasted_files(text: str, cwd: Path | None = None) -> list[Path]:
    """The existing files `text` names, every word of it; [] when any word is not one."""
    text = text.strip()
    if not text or len(text) > LONGEST:
        return []
    try:
        words = [word for line in text.splitlines() for word in shlex.split(line)]
    except ValueError:  # an unbalanced quote: prose with an apostrophe, not paths
        return []
    if not words or len(words) > MOST:
        return []
    paths = [_path(word, cwd) for word in words]
    if not all(path is not None and path.is_file() for path in paths):
        return []
    return [path for path in paths if path is not None]


def _path(word: str, cwd: Path | None) -> Path | None:
    if word.startswith("file://"):
        url = urlparse(word)
        if url.netloc not in ("", "localhost"):
            return None
        word = unquote(url.path)
    if not word.startswith(("/", "~", "./", "../")):
        return None  # a bare word ("hello") is text even when a file by that name is here
    path = Path(os.path.expanduser(word))
    return path if path.is_absolute() else (cwd or Path.cwd()) / path
