"""Which process holds a database's write lock, to name it in "database is locked" errors.

SQLite takes POSIX advisory locks. In WAL mode (tuichat's) a writer holds a write lock on
byte 120 of the `-shm` file; in rollback-journal mode, on the RESERVED or PENDING byte of
the database file itself. Linux lists every such lock, with its owner's pid, in /proc/locks.
When it names no one (another mount or pid namespace, no /proc), the processes that have
the file open (found like `fuser`, through /proc/*/fd) are named instead, as suspects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

_WAL_WRITE_LOCK: Final = 120  # the byte of the -shm file a WAL writer locks
_PENDING_BYTE: Final = 0x40000000  # and, in rollback-journal mode, RESERVED is the next one
_MOST: Final = 3  # suspects named at most


def describe_lock_holder(path: Path) -> str | None:
    """`pid 4242 (python3 hold.py)`, `one of pid 1 (...), pid 2 (...)`, or None if unknown."""
    try:
        holders = lock_holders(path)
        if holders:
            return ", ".join(_describe(pid) for pid in holders[:_MOST])
        suspects = processes_with_open(path)
        if suspects:
            named = ", ".join(_describe(pid) for pid in suspects[:_MOST])
            return named if len(suspects) == 1 else f"one of {named}"
    except OSError:
        pass
    return None


def lock_holders(path: Path) -> list[int]:
    """The pids (other than ours) holding a write lock on `path` or its -shm file."""
    wanted: dict[tuple[int, int, int], tuple[int, int]] = {}
    for file, (low, high) in ((Path(f"{path}-shm"), (_WAL_WRITE_LOCK, _WAL_WRITE_LOCK)), (path, (_PENDING_BYTE, _PENDING_BYTE + 1))):
        try:
            st = os.stat(file)
        except OSError:
            continue
        wanted[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = (low, high)
    if not wanted:
        return []
    try:
        text = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    me, found = os.getpid(), []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 8 or fields[1] == "->" or fields[3] != "WRITE":
            continue  # a waiter ("->"), a read lock, or a line we do not know
        try:
            pid = int(fields[4])
            major, minor, inode = fields[5].split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
            start, end = int(fields[6]), (None if fields[7] == "EOF" else int(fields[7]))
        except ValueError:
            continue
        span = wanted.get(key)
        if span is None or pid in (me, -1) or pid in found:
            continue
        low, high = span
        if start <= high and (end is None or end >= low):
            found.append(pid)
    return found


def processes_with_open(path: Path) -> list[int]:
    """The pids (other than ours) with `path` open, like `fuser`; those we may not look into
    are left out."""
    try:
        target = os.stat(path)
    except OSError:
        return []
    me, found = os.getpid(), []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        folder = f"/proc/{entry}/fd"
        try:
            fds = os.listdir(folder)
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(f"{folder}/{fd}")
            except OSError:
                continue
            if st.st_ino == target.st_ino and st.st_dev == target.st_dev:
                found.append(int(entry))
                break
    return found


def _describe(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    if len(command) > 60:
        command = command[:59] + "…"
    return f"pid {pid} ({command})" if command else f"pid {pid}"
