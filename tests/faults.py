"""Storage faults for tests, made for real: another process holding the write lock, a full
disk, and pipes whose replies stream steadily or pause.

`write_lock` starts a second Python process that takes the database's write lock with
`BEGIN IMMEDIATE` and holds it until released. `FullDisk` puts the database on a small tmpfs
of its own (needs root and mount, as in CI) and fills it up with a file, then frees it; where
it cannot mount, it says why and `available()` is False (the callers fall back or skip).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

# Streams ten words, then thinks for a long time (the case a save on the next chunk misses).
PAUSING = textwrap.dedent(
    '''
    """
    title: Pausing
    """
    import asyncio

    class Pipe:
        async def pipe(self, body):
            for i in range(10):
                yield f"word{i} "
                await asyncio.sleep(0.02)
            await asyncio.sleep(60)
            yield "late"
    '''
)

# Streams `COUNT` words, one every `GAP` seconds, each `SIZE` characters long; with a
# `GATE` file, it waits after `HOLD_AT` words until that file exists (so a test can break
# the database mid-reply, however slow the machine).
STEADY = textwrap.dedent(
    '''
    """
    title: Steady
    """
    import asyncio, os

    COUNT, GAP, SIZE, GATE, HOLD_AT = {count}, {gap}, {size}, {gate!r}, {hold_at}

    class Pipe:
        async def pipe(self, body):
            for i in range(COUNT):
                if GATE and i == HOLD_AT:
                    while not os.path.exists(GATE):
                        await asyncio.sleep(0.02)
                yield f"w{{i}}".ljust(SIZE, ".") + " "
                await asyncio.sleep(GAP)
    '''
)


def steady(count: int, gap: float, size: int = 8, *, gate: Path | None = None, hold_at: int = 0) -> str:
    return STEADY.format(count=count, gap=gap, size=size, gate=str(gate) if gate else "", hold_at=hold_at)


_HOLD = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.read()  # until the test releases it
    conn.execute("COMMIT")
    """
)


class LockHolder:
    """A second process holding `db`'s write lock until `release()`."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line == "locked", f"the lock holder said {line!r}"
        self.pid = self.process.pid

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(10)


@contextlib.contextmanager
def write_lock(db: Path) -> Iterator[LockHolder]:
    holder = LockHolder(db)
    try:
        yield holder
    finally:
        holder.release()


class FullDisk:
    """A small tmpfs at `folder`, to hold a database and then be filled up."""

    def __init__(self, folder: Path, size: str = "2m") -> None:
        self.folder = folder
        self.filler = folder / "filler"
        self.reason = ""
        self.mounted = False
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0 or shutil.which("mount") is None:
            self.reason = "needs root and mount(8) for a small tmpfs"
            return
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True)
        if result.returncode != 0:
            self.reason = f"mounting a tmpfs failed: {result.stderr.strip()}"
            return
        self.mounted = True

    def available(self) -> bool:
        return self.mounted

    def fill(self) -> None:
        """Write a file until no space is left."""
        with open(self.filler, "ab", buffering=0) as file:
            block = b"x" * 4096
            try:
                while True:
                    file.write(block)
            except OSError:
                pass

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)
            self.mounted = False
