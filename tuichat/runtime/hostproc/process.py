"""The app's handle on one host process: starting it, its connection, its last words.

The host is `python -m tuichat.runtime.hostproc`, given one end of a socketpair. Its
stdout and stderr come back on pipes; the last lines of both are kept, so when it dies the
reply can say what it printed last. Its stderr is output no call claimed (`on_output`, the
host log); its stdout only copies what calls wrote to stderr, for that last word. When it
dies, `death()` says how, in words.
"""

from __future__ import annotations

import asyncio
import collections
import re
import signal
import socket
import sysconfig

# Bound here, not looked up on `asyncio`: tests that forbid pip (which runs through
# `asyncio.create_subprocess_exec`) still let the host start.
from asyncio.subprocess import create_subprocess_exec
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tuichat.runtime.hostproc.adopted import Adopted
from tuichat.runtime.hostproc.rpc import Connection, Handler
from tuichat.runtime.hostproc.spawn import host_command, take

TAIL_LINES = 60  # lines of the host's own output kept for a death report (a stack dump fits)
DUMP_WAIT = 0.3  # seconds a stuck host gets to print where it is before it is killed
EXIT_WAIT = 2.0  # seconds to wait for the exit status once the connection is gone

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


_HOOK_CALLER = str(Path("runtime", "chatpath", "hooks.py"))  # where `call_hook` calls a filter hook
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


class HostProcess:
    def __init__(self, process: asyncio.subprocess.Process, connection: Connection) -> None:
        self.process = process
        self.connection = connection
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.on_output: Callable[[str], None] | None = None  # lines no call claimed (stderr)
        self._tasks: list[asyncio.Task[Any]] = []
        self._death: asyncio.Future[str] | None = None
        self.killed_for: str | None = None  # why the app killed it, when it did
        self.calls: dict[int, Any] = {}  # the RemoteInvocations running there, by request id

    @classmethod
    async def start(cls, db_path: Path, session_id: str, handler: Handler) -> HostProcess:
        early = take(db_path, session_id)
        process: asyncio.subprocess.Process | Adopted
        if early is not None:
            process, parent = await Adopted.adopt(early.popen), early.sock
        else:
            parent, child = socket.socketpair()
            try:
                argv, env = host_command(child.fileno(), db_path, session_id)
                process = await create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                    pass_fds=(child.fileno(),), env=env,
                )  # fmt: skip
            finally:
                child.close()
        reader, writer = await asyncio.open_connection(sock=parent, limit=1 << 20)
        host = cls(process, Connection(reader, writer, handler))
        loop = asyncio.get_running_loop()
        host._tasks = [
            loop.create_task(host.connection.serve()),
            loop.create_task(host._read_output(process.stdout, claimed=True)),
            loop.create_task(host._read_output(process.stderr, claimed=False)),
        ]
        return host

    @property
    def alive(self) -> bool:
        return self.connection.closed is None and self.process.returncode is None

    async def _read_output(self, stream: asyncio.StreamReader | None, *, claimed: bool) -> None:
        assert stream is not None
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line longer than the stream's limit: dropped by the reader
                line = b"[a line over 64 KB long was not kept]\n"
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(text)
            if not claimed and self.on_output is not None:
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
        for task in self._tasks[1:]:  # the output pipes: read what is left
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
        for frames in self._dumped_stacks():
            for frame in frames:
                if not frame["path"].startswith(_OWN_PATHS):
                    return f"{frame['path']}:{frame['line']} in {frame['function']}"
        return None

    def stuck_hook(self) -> tuple[str, str] | None:
        """`(filter id, hook)` when the last stack dump shows a chat-path filter hook running:
        the frame the chat path's `call_hook` called (the hook's own function, named after
        the hook, in `<filter id>.py`), however deep the filter's code went from there."""
        for frames in self._dumped_stacks():
            for inner, frame in zip(frames, frames[1:]):
                if frame["function"] == "call_hook" and frame["path"].endswith(_HOOK_CALLER):
                    return Path(inner["path"]).stem, inner["function"]
        return None

    def _dumped_stacks(self) -> list[list[re.Match[str]]]:
        """The frames of each thread in the last stack dump (innermost first), the thread
        the signal interrupted (the loop's) first."""
        blocks: list[tuple[bool, list[re.Match[str]]]] = []
        for line in self.tail:
            if line.startswith(("Thread 0x", "Current thread 0x")):
                blocks.append((line.startswith("Current"), []))
            elif blocks and (frame := _FRAME.match(line)) is not None:
                blocks[-1][1].append(frame)
        blocks.sort(key=lambda block: not block[0])
        return [frames for _, frames in blocks]

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
        if len(self._tasks) > 1:  # the output pipes end at EOF, unless a forked child still holds them
            try:
                await asyncio.wait_for(asyncio.shield(asyncio.gather(*self._tasks[1:])), 0.5)
            except (TimeoutError, asyncio.CancelledError):
                pass
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Closed now, on a running loop: left to the garbage collector it complains of a closed loop.
        transport = getattr(self.process, "_transport", None)
        if transport is not None:
            transport.close()
