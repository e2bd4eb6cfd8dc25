"""A host process started before the event loop (`spawn.spawn_early`), driven by it now.

It offers what `HostProcess` uses of an `asyncio.subprocess.Process`: `pid`, `returncode`,
`stdout` and `stderr` (StreamReaders), `wait()`, `kill()` and `send_signal()`. The loop learns of the
exit through a pidfd (no thread waits), since asyncio's child watchers only know the
processes asyncio started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess


class _Pipes:
    """The output pipes' transports, closed together as asyncio closes a process's."""

    def __init__(self, transports: list[asyncio.BaseTransport]) -> None:
        self._transports = transports

    def close(self) -> None:
        for transport in self._transports:
            transport.close()


class Adopted:
    def __init__(self, popen: subprocess.Popen[bytes], readers: list[asyncio.StreamReader], transports: list[asyncio.BaseTransport]) -> None:
        self._popen = popen
        self.pid = popen.pid
        self.stdout, self.stderr = readers
        self._transport = _Pipes(transports)  # closed by `HostProcess.close`, as asyncio's own
        self._exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @classmethod
    async def adopt(cls, popen: subprocess.Popen[bytes]) -> Adopted:
        loop = asyncio.get_running_loop()
        readers: list[asyncio.StreamReader] = []
        transports: list[asyncio.BaseTransport] = []
        for pipe in (popen.stdout, popen.stderr):
            assert pipe is not None
            reader = asyncio.StreamReader(loop=loop)
            transport, _ = await loop.connect_read_pipe(lambda r=reader: asyncio.StreamReaderProtocol(r, loop=loop), pipe)
            readers.append(reader)
            transports.append(transport)
        adopted = cls(popen, readers, transports)
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
