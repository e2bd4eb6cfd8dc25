"""Keeping a pipe's `print()` off tuichat's own output.

A pipe's module, its `pipes()` and its call run in tuichat's process, so what they
print lands on tuichat's stdout, where `tuichat run`, `--jsonl` and the `--json`
listings write output other programs read. `pipe_output_to_stderr()` (the CLI
enables it for every command) puts a stand-in in `sys.stdout` that sends writes to
stderr when they come from pipe code (code run inside `pipe_code()`: loading,
listing, calling, and the tasks and `asyncio.to_thread` threads started from there)
or from any thread other than the main one (threads a pipe starts itself); tuichat's
own writes, from the main thread, go to stdout as before.

Logging is already safe: Python's and loguru's default handlers write to stderr,
and a handler a pipe points at `sys.stdout` gets the stand-in.
"""

from __future__ import annotations

import contextvars
import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

_in_pipe_code: contextvars.ContextVar[bool] = contextvars.ContextVar("tuichat_pipe_code", default=False)


@contextmanager
def pipe_code() -> Iterator[None]:
    """Mark the block (and what it starts) as pipe code."""
    token = _in_pipe_code.set(True)
    try:
        yield
    finally:
        _in_pipe_code.reset(token)


def in_pipe_code() -> bool:
    return _in_pipe_code.get()


class PipeAwareStdout(io.TextIOBase):
    """`sys.stdout` that routes each write by who makes it (see the module docstring)."""

    def __init__(self, stdout: TextIO, main_thread: int) -> None:
        self._stdout = stdout
        self._main_thread = main_thread

    def _routed(self) -> bool:
        return _in_pipe_code.get() or threading.get_ident() != self._main_thread

    def _target(self) -> TextIO:
        return sys.stderr if self._routed() else self._stdout

    def write(self, text: str) -> int:
        if self._routed():
            written = sys.stderr.write(text)
            sys.stderr.flush()
            return written
        return self._stdout.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stdout.flush()
        sys.stderr.flush()

    @property
    def buffer(self) -> Any:
        return self._target().buffer

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stdout.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stdout.errors

    def fileno(self) -> int:
        return self._stdout.fileno()

    def isatty(self) -> bool:
        return self._stdout.isatty()

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stdout, name)


@contextmanager
def pipe_output_to_stderr() -> Iterator[None]:
    """While the block runs, what pipe code prints goes to stderr, not stdout."""
    original = sys.stdout
    if original is None or isinstance(original, PipeAwareStdout):
        yield
        return
    sys.stdout = PipeAwareStdout(original, threading.main_thread().ident or threading.get_ident())
    try:
        yield
    finally:
        if isinstance(sys.stdout, PipeAwareStdout):
            sys.stdout.flush()
        sys.stdout = original
