"""Path completion for a one-line field, as a shell's Tab does it.

Tab completes what is typed to the longest prefix the matching entries share (a folder gets
its `/`, one file is completed whole); when several still match, they are listed. `~` is
expanded to look things up but kept as typed, so the field reads as the user wrote it.
Hidden entries are offered only once a `.` is typed, as shells do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

LISTED = 40  # candidates returned at most: a huge folder should not flood the dialog


@dataclass(frozen=True)
class Completion:
    """What Tab makes of the field: its new text, and what still matches when several do."""

    text: str
    candidates: list[str] = field(default_factory=list)  # names, folders with a trailing /
    more: int = 0  # matches beyond the candidates listed


def split(text: str) -> tuple[str, str]:
    """(the folder part as typed, with its trailing /; the name being typed)."""
    folder, slash, name = text.rpartition("/")
    return (folder + slash, name)


def complete(text: str, cwd: Path | None = None) -> Completion:
    """Complete `text` (a path as typed, relative to `cwd` or absolute, `~` allowed)."""
    typed_folder, prefix = split(text)
    if text == "~":  # a shell completes ~ to the home folder
        return Completion("~/")
    folder = Path(os.path.expanduser(typed_folder or "."))
    if not folder.is_absolute():
        folder = (cwd or Path.cwd()) / folder
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return Completion(text)
    matches = [
        entry.name + ("/" if _is_folder(entry) else "")
        for entry in entries
        if entry.name.startswith(prefix) and (prefix.startswith(".") or not entry.name.startswith("."))
    ]
    if not matches:
        return Completion(text)
    if len(matches) == 1:
        return Completion(typed_folder + matches[0])
    shared = os.path.commonprefix(matches)
    return Completion(typed_folder + shared, matches[:LISTED], max(0, len(matches) - LISTED))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks: a link to a folder completes as one
    except OSError:
        return False
