"""Everything a pipe says on the side, captured per call as log steps.

`print` and `sys.stdout`/`sys.stderr` writes, `logging` records and loguru messages are
attributed to the call whose code made them (a context variable, inherited by the tasks
and `asyncio.to_thread` threads the call starts). What subprocesses write to fd 1 and 2
goes to pipes this process reads; it belongs to the one call running, if there is one,
and so do writes from threads that carry no call (a `threading.Thread` a pipe started).
What belongs to no call (a module imported or `pipes()` listed outside a call) goes to
the host's own stderr, which the app keeps as the host log: never the app's stdout. A
call's stderr writes are copied to the host's own stdout, so that if the host dies, the
app's report of its last lines has them.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

LogSink = Callable[[dict[str, Any]], None]
MAX_RECORDS_PER_CALL = 2000  # a pipe printing in a loop must not grow the reply without bound
current_sink: contextvars.ContextVar[CallLog | None] = contextvars.ContextVar("tuichat_call_log", default=None)


class CallLog:
    """One call's captured output: whole lines, at most MAX_RECORDS_PER_CALL of them."""

    def __init__(self, emit: LogSink) -> None:
        self._emit = emit
        self._partial: dict[str, str] = {}
        self.count = 0
        self.dropped = 0

    def write(self, stream: str, text: str) -> None:
        text = self._partial.pop(stream, "") + text
        *lines, rest = text.split("\n")
        if rest:
            self._partial[stream] = rest
        for line in lines:
            self.record({"stream": stream, "text": line})

    def record(self, record: dict[str, Any]) -> None:
        if self.count >= MAX_RECORDS_PER_CALL:
            self.dropped += 1
            return
        self.count += 1
        self._emit({"time": time.time(), **record})

    def close(self) -> None:
        for stream, rest in list(self._partial.items()):
            self.record({"stream": stream, "text": rest})
        self._partial.clear()
        if self.dropped:
            self.count = 0  # room for the note itself
            self.record({"stream": "host", "text": f"{self.dropped} more lines of output were not kept"})


class _CallStream(io.TextIOBase):
    """`sys.stdout` / `sys.stderr` in the host: a call's writes go to its log."""

    def __init__(
        self, name: str, fallback: io.TextIOBase | Any, stray: Callable[[str, str], bool] | None = None, copy: Any = None
    ) -> None:
        self.name = name
        self._fallback = fallback
        self._stray = stray
        self._copy = copy if copy is not None else fallback

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if _forked.child:
            return _write_fd(self.fileno(), str(text))
        sink = current_sink.get()
        if sink is None and self._stray is not None and self._stray(self.name, str(text)):
            return len(text)
        if sink is None or self.name == "stderr":
            # stderr also goes to the host's own stdout: if the host dies, its last lines say why.
            try:
                (self._fallback if sink is None else self._copy).write(text)
            except (OSError, ValueError):
                pass
        if sink is not None:
            sink.write(self.name, str(text))
        return len(text)

    def flush(self) -> None:
        try:
            self._fallback.flush()
        except (OSError, ValueError):
            pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1 if self.name == "stdout" else 2

    @property
    def buffer(self) -> _BytesInto:
        """`sys.stdout.buffer`, as a real stream has: bytes written there are this stream's text."""
        return _BytesInto(self)


class _BytesInto(io.RawIOBase):
    def __init__(self, text: _CallStream) -> None:
        self._text = text

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._text.write(chunk.decode("utf-8", "replace"))
        return len(chunk)


class _LogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink = current_sink.get()
        if sink is None and not _forked.child:
            return
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a bad format string is the pipe's; show the raw message
            text = str(record.msg)
        if _forked.child:
            _write_fd(2, text + "\n")
            return
        assert sink is not None
        sink.record({"stream": "log", "level": record.levelname, "logger": record.name, "text": text})


class Capture:
    """Installed once when the host starts, before any pipe code runs."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread: int | None = None
        self.active: set[CallLog] = set()
        self._fds: dict[int, tuple[int, tuple[int, int]]] = {}  # fd: (a copy of its pipe, the pipe's id)
        self.host_log = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
        self.call_copy = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8", errors="replace")

    def install(self) -> None:
        import sys

        self._loop_thread = threading.get_ident()  # installed from the loop's own thread
        self._redirect_fds()
        sys.stdout = _CallStream("stdout", self.host_log, self._stray_write)  # type: ignore[assignment]
        sys.stderr = _CallStream("stderr", self.host_log, self._stray_write, self.call_copy)  # type: ignore[assignment]
        root = logging.getLogger()
        handler = _LogHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.INFO)  # Open WebUI's GLOBAL_LOG_LEVEL default
        self._hook_loguru()
        os.register_at_fork(after_in_child=_forked.enter)

    def _redirect_fds(self) -> None:
        """fd 1 and 2 become pipes read here, so subprocess output is captured too."""
        for fd, name in ((1, "stdout"), (2, "stderr")):
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            self._fds[fd] = (write_end, _identity(write_end))  # kept, to restore fd if a pipe closes it
            threading.Thread(target=self._pump_fd, args=(read_end, name), daemon=True, name=f"capture-{name}").start()

    def _pump_fd(self, fd: int, name: str) -> None:
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                text = chunk.decode("utf-8", "replace")
                try:
                    self._loop.call_soon_threadsafe(self._fd_output, name, text)
                except RuntimeError:
                    return

    def _stray_write(self, name: str, text: str) -> bool:
        """A write from a thread that carries no call (one a pipe started with `threading`):
        the call's when one call runs, as raw fd output is. Taken to the loop, in order."""
        if self._loop_thread is None or threading.get_ident() == self._loop_thread or len(self.active) != 1:
            return False
        try:
            self._loop.call_soon_threadsafe(self._fd_output, name, text)
        except RuntimeError:
            return False
        return True

    def _fd_output(self, name: str, text: str) -> None:
        # Raw fd output carries no context: it is the call's when one call runs.
        if len(self.active) == 1:
            next(iter(self.active)).write(name, text)
        else:
            self.host_log.write(text)

    def _hook_loguru(self) -> None:
        import importlib.util

        if importlib.util.find_spec("loguru") is None:
            return
        from loguru import logger

        def sink(message: Any) -> None:
            record = message.record
            call = current_sink.get()
            if call is not None:
                call.record({
                    "stream": "log", "level": record["level"].name, "logger": record["name"] or "loguru",
                    "text": str(record["message"]),
                })  # fmt: skip

        logger.add(sink, level="DEBUG", format="{message}")

    def _restore_fds(self) -> list[int]:
        """Put the capture pipes back on fd 1 and 2 where a pipe closed or replaced them
        (`os.close(1)`): else later calls' and subprocesses' output would be lost, or fail."""
        restored = []
        for fd, (copy, identity) in self._fds.items():
            try:
                same = _identity(fd) == identity
            except OSError:
                same = False
            if not same:
                os.dup2(copy, fd)
                restored.append(fd)
        return restored

    def begin(self, emit: LogSink) -> tuple[CallLog, contextvars.Token[CallLog | None]]:
        self._restore_fds()
        log = CallLog(emit)
        self.active.add(log)
        return log, current_sink.set(log)

    def end(self, log: CallLog, token: contextvars.Token[CallLog | None]) -> None:
        self.active.discard(log)
        current_sink.reset(token)
        for fd in self._restore_fds():
            name = "stdout" if fd == 1 else "stderr"
            log.record({"stream": "tuichat", "text": f"the pipe closed or replaced fd {fd} ({name}); tuichat put it back"})
        log.close()


class _Forked:
    """Whether this process is a child a pipe forked from the host. Its copy of a call's log
    would send to a connection only the host reads, from a loop that no longer runs here, and
    such a child usually ends with `os._exit`, flushing nothing: so it writes what it prints
    and logs straight to fd 1 and 2, the capture pipes it shares with the host, which give it
    to the call while one runs, else to the host log."""

    child = False

    @classmethod
    def enter(cls) -> None:
        cls.child = True


_forked = _Forked


def _write_fd(fd: int, text: str) -> int:
    data = text.encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        pass
    return len(text)


def _identity(fd: int) -> tuple[int, int]:
    stat = os.fstat(fd)
    return stat.st_dev, stat.st_ino
