"""Starting the host process, and starting it early.

A CLI command that will run function code starts the host before it imports the runtime
(`spawn_early`, from the launcher): the host's imports (pydantic, the loader, the
`open_webui` stand-ins) then run on the other core while the command's own run here, and
`HostProcess.start` adopts the waiting process (`take`). Light on purpose: the launcher
imports this before anything heavy.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from tuichat.runtime.hostproc.guard import MEMORY_ENV

DEFAULT_MEMORY_FRACTION = 0.5  # of physical memory, when no limit is set


@dataclass
class Spawned:
    """A host process started with `subprocess`, not yet driven by an event loop."""

    popen: subprocess.Popen[bytes]
    sock: socket.socket  # the app's end of the socketpair
    db_path: Path
    session_id: str


_early: Spawned | None = None


def new_session_id() -> str:
    return f"tuichat-{uuid.uuid4().hex[:12]}"


def memory_limit() -> int | None:
    """The host's address-space limit in bytes (None: no limit)."""
    text = os.environ.get(MEMORY_ENV, "").strip().upper()
    if text:
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
        scale = units.get(text[-1], 1)
        number = float(text[:-1] if text[-1] in units else text)
        return int(number * scale) or None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    # Address space, not resident memory: Python and its libraries map more than they
    # touch, so the floor keeps a small machine's host usable.
    return max(int(total * DEFAULT_MEMORY_FRACTION), 2 << 30)


def host_command(fd: int, db_path: Path, session_id: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a host serving on socket `fd`."""
    env = dict(os.environ)
    env[MEMORY_ENV] = str(memory_limit() or 0)
    # The host runs this process's tuichat: `-P` keeps the working directory (a folder that
    # happens to hold another `tuichat`, such as a source checkout) off its import path, and
    # the folder this tuichat was imported from goes first.
    package_root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    argv = [sys.executable, "-P", "-m", "tuichat.runtime.hostproc", str(fd), str(db_path), session_id, str(os.getpid())]
    return argv, env


def spawn(db_path: Path, session_id: str) -> Spawned:
    """Start a host process on `db_path` (stdout and stderr on pipes, stdin closed)."""
    parent, child = socket.socketpair()
    try:
        argv, env = host_command(child.fileno(), db_path, session_id)
        popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(child.fileno(),), env=env,
        )  # fmt: skip
    except BaseException:
        parent.close()
        raise
    finally:
        child.close()
    return Spawned(popen, parent, db_path, session_id)


def can_adopt() -> bool:
    """An event loop can wait for a process it did not start only through a pidfd (Linux)."""
    return hasattr(os, "pidfd_open") and sys.platform.startswith("linux")


def spawn_early(db_path: Path) -> None:
    """Start the host for a command about to need it; the process is killed at exit if no
    `HostProcess.start` adopts it."""
    global _early
    if _early is not None or not can_adopt():
        return
    try:
        _early = spawn(db_path.expanduser().absolute(), new_session_id())
    except OSError:
        return  # `HostProcess.start` tries again, and reports what fails
    atexit.register(discard)


def early_session(db_path: Path) -> str | None:
    """The session id of an early host waiting for `db_path`, if there is one."""
    early = _early
    return early.session_id if early is not None and early.db_path == db_path.expanduser().absolute() else None


def take(db_path: Path, session_id: str) -> Spawned | None:
    """The early host, if it serves this database and session and is still running."""
    global _early
    early = _early
    if early is None:
        return None
    _early = None
    if early.db_path == db_path.expanduser().absolute() and early.session_id == session_id and early.popen.poll() is None:
        return early
    _end(early)
    return None


def discard() -> None:
    """Kill an early host nobody adopted (a command that failed before it needed it)."""
    global _early
    early, _early = _early, None
    if early is not None:
        _end(early)


def _end(early: Spawned) -> None:
    early.sock.close()
    try:
        early.popen.kill()
    except ProcessLookupError:
        pass
    early.popen.wait()
    for stream in (early.popen.stdout, early.popen.stderr):
        if stream is not None:
            stream.close()
