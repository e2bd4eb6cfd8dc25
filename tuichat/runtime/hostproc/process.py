"""The app's handle on one host process: starting it, its connection, its last words.

The host is `python -m tuichat.runtime.hostproc`, given one end of a socketpair. Its
stdout and stderr come back on one pipe; the last lines are kept, so when it dies the
reply can say what it printed last. When it dies, `death()` says how, in words.
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import signal
import socket
import sys
import sysconfig

# Bound here, not looked up on `asyncio`: tests that forbid pip (which runs through
# `asyncio.create_subprocess_exec`) still let the host start.
from asyncio.subprocess import create_subprocess_exec
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuichat.runtime.hostproc.guard import MEMORY_ENV
from tuichat.runtime.hostproc.rpc import Connection, Handler

TAIL_LINES = 60  # lines of the host's own output kept for a death report (a stack dump fits)
DUMP_WAIT = 0.3  # seconds a stuck host gets to print where it is before it is killed
EXIT_WAIT = 2.0  # seconds to wait for the exit status once the connection is gone
DEFAULT_MEMORY_FRACTION = 0.5  # of physical memory, when no limit is set

_SIGNAL_WORDS = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGKILL: "killed",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "arithmetic error",
    signal.SIGILL: "illegal instruction",
    signal.SIGTERM: "terminated",
}


def describe_exit(returncode: int | None) -> str:
    """How a host process ended, for the person at the terminal."""
    if returncode is None:
        return "the pipe process stopped answering"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
        except ValueError:
            return f"the pipe process died: signal {-returncode}"
        words = _SIGNAL_WORDS.get(sig, sig.name)
        hint = " (out of memory?)" if sig == signal.SIGKILL else ""
        return f"the pipe process died: {words} ({sig.name}){hint}"
    return f"the pipe process died: it exited with status {returncode}"


_FRAME = re.compile(r'\s+File "(?P<path>.*)", line (?P<line>\d+) in (?P<function>.*)')
_OWN_PATHS = (str(Path(__file__).parents[2]), sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], "<frozen ")


def _catches(pid: int, sig: signal.Signals) -> bool:
    """Whether process `pid` has a handler for `sig` (Linux's /proc; elsewhere: no)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return False
    caught = next((line.split(":")[1] for line in status.splitlines() if line.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) >> (sig - 1) & 1)


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


class HostProcess:
    def __init__(self, process: asyncio.subprocess.Process, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.on_output: Callable[[str], None] | None = None  # lines no call claimed
        self._tasks: list[asyncio.Task[Any]] = []
        self._death: asyncio.Future[str] | None = None
        self.killed_for: str | None = None  # why the app killed it, when it did
        self.calls: dict[int, Any] = {}  # the RemoteInvocations running there, by request id

    @classmethod
    async def start(cls, db_path: Path, session_id: str, handler: Handler) -> HostProcess:
        parent, child = socket.socketpair()
        try:
            env = dict(os.environ)
            limit = memory_limit()
            env[MEMORY_ENV] = str(limit or 0)
            process = await create_subprocess_exec(
                sys.executable, "-m", "tuichat.runtime.hostproc", str(child.fileno()), str(db_path), session_id, str(os.getpid()),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                pass_fds=(child.fileno(),), env=env,
            )  # fmt: skip
        finally:
            child.close()
        reader, writer = await asyncio.open_connection(sock=parent, limit=1 << 20)
        host = cls(process, Connection(reader, writer, handler))
        loop = asyncio.get_running_loop()
        host._tasks = [loop.create_task(host.connection.serve()), loop.create_task(host._read_output())]
        return host

    @property
    def alive(self) -> bool:
        return self.connection.closed is None and self.process.returncode is None

    async def _read_output(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(text)
            if self.on_output is not None:
                self.on_output(text)

    def death(self) -> asyncio.Future[str]:
        """How the process ended, in words, once it has (kills it if it lingers)."""
        if self._death is None:
            self._death = asyncio.ensure_future(self._wait_death())
        return self._death

    async def _wait_death(self) -> str:
        try:
            await asyncio.wait_for(self.process.wait(), EXIT_WAIT)
        except TimeoutError:
            self.kill("its connection closed but it went on running")
            await self.process.wait()
        for task in self._tasks[1:]:  # the output pipe: read what is left
            try:
                await asyncio.wait_for(asyncio.shield(task), 0.5)
            except (TimeoutError, asyncio.CancelledError):
                pass
        if self.killed_for is not None:
            return f"the pipe process was restarted: {self.killed_for}"
        return describe_exit(self.process.returncode)

    async def stop_stuck(self, why: str) -> None:
        """Kill a host that stopped answering, once it has printed where it was stuck
        (faulthandler, on SIGUSR1): the last lines then say where the pipe hung."""
        # Until the host has set up its handler (it may still be starting), SIGUSR1 would kill it.
        if self.process.returncode is None and self.killed_for is None and _catches(self.process.pid, signal.SIGUSR1):
            try:
                self.process.send_signal(signal.SIGUSR1)
            except ProcessLookupError:
                pass
            await asyncio.sleep(DUMP_WAIT)
        self.kill(why)

    def stuck_at(self) -> str | None:
        """`file:line in function` of the innermost frame of function code (not tuichat's,
        not the standard library's) in the last stack dump, the loop's thread first: where
        a stuck pipe was."""
        blocks: list[tuple[bool, list[re.Match[str]]]] = []
        for line in self.tail:
            if line.startswith(("Thread 0x", "Current thread 0x")):
                blocks.append((line.startswith("Current"), []))
            elif blocks and (frame := _FRAME.match(line)) is not None:
                blocks[-1][1].append(frame)
        blocks.sort(key=lambda block: not block[0])  # the thread the signal interrupted first
        for _, frames in blocks:
            for frame in frames:
                if not frame["path"].startswith(_OWN_PATHS):
                    return f"{frame['path']}:{frame['line']} in {frame['function']}"
        return None

    def kill(self, why: str) -> None:
        """End the process now (SIGKILL: a pipe may ignore anything gentler)."""
        if self.killed_for is None and self.process.returncode is None:
            self.killed_for = why
        try:
            self.process.kill()
        except ProcessLookupError:
            pass

    async def close(self) -> None:
        """Kill and reap it; quitting never waits for a pipe."""
        self.kill("tuichat is closing")
        await self.process.wait()
        if len(self._tasks) > 1:  # the output pipe ends at EOF, unless a forked child still holds it
            try:
                await asyncio.wait_for(asyncio.shield(self._tasks[1]), 0.5)
            except (TimeoutError, asyncio.CancelledError):
                pass
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Closed now, on a running loop: left to the garbage collector it complains of a closed loop.
        transport = getattr(self.process, "_transport", None)
        if transport is not None:
            transport.close()
