"""A host process started before the event loop (`spawn.spawn_early`), driven by it now.

It offers what `HostProcess` uses of an `asyncio.subprocess.Process`: `pid`, `returncode`,
`stdout` (a StreamReader), `wait()`, `kill()` and `send_signal()`. The loop learns of the
exit through a pidfd (no thread waits), since asyncio's child watchers only know the
processes asyncio started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess


class Adopted:
    def __init__(self, popen: subprocess.Popen[bytes], stdout: asyncio.StreamReader, transport: asyncio.BaseTransport) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stdout = stdout
        self._transport = transport  # closed by `HostProcess.close`, as asyncio's own
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @classmethod
    async def adopt(cls, popen: subprocess.Popen[bytes]) -> Adopted:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        assert popen.stdout is not None
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop), popen.stdout)
        adopted = cls(popen, reader, transport)
        pidfd = os.pidfd_open(popen.pid)
        loop.add_reader(pidfd, adopted._reap, loop, pidfd)
        return adopted

    def _reap(self, loop: asyncio.AbstractEventLoop, pidfd: int) -> None:
        loop.remove_reader(pidfd)
        os.close(pidfd)
        code = self._popen.wait()  # it has exited: this returns at once
        if not self._exited.done():
            self._exited.set_result(code)

    @property
    def returncode(self) -> int | None:
        # Not `poll()`: as with asyncio's processes, the code shows once the loop has seen the exit.
        return self._exited.result() if self._exited.done() else None

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    def send_signal(self, sig: int) -> None:
        if self._exited.done():
            return
        os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)
