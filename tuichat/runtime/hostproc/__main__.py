"""`python -m tuichat.runtime.hostproc FD DB SESSION APP_PID`: serve the app on socket FD."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tuichat.runtime.hostproc.guard import MEMORY_ENV, die_with_parent, limit_memory


async def serve(fd: int, db_path: Path, session_id: str) -> None:
    import faulthandler

    from tuichat.runtime.hostproc.capture import Capture
    from tuichat.runtime.hostproc.rpc import Connection
    from tuichat.runtime.hostproc.server import HostServer

    capture = Capture(asyncio.get_running_loop())
    capture.install()
    # A crash in C (a segfault) prints Python's traceback where the app reads the host's last words.
    faulthandler.enable(file=capture.host_log, all_threads=False)
    # Asked by the app before it kills a host that stopped answering: where every thread was.
    faulthandler.register(signal.SIGUSR1, file=capture.host_log, all_threads=True)
    # ctrl+c at a terminal signals the whole process group: the app stops the call (and can
    # ask this process which filter hook it stopped); the host is the app's to end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = HostServer(db_path, session_id, capture)
    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 20)
    connection = Connection(reader, writer, server.handle)
    server.attach(connection)
    await connection.serve()


def main(argv: list[str]) -> None:
    fd, db_path, session_id, app_pid = int(argv[1]), Path(argv[2]), argv[3], int(argv[4])
    die_with_parent(app_pid)
    limit_memory(int(os.environ.get(MEMORY_ENV, "0") or 0))
    # Not asyncio.run: at the end it waits for the executor's threads, and a pipe's
    # `asyncio.to_thread` may never return.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve(fd, db_path, session_id))
    finally:
        # The app has gone: exit now, without waiting for threads a pipe started.
        for stream in (sys.stdout, sys.stderr, sys.__stderr__):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a pipe may have closed or replaced them
                pass
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
