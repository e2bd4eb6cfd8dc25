"""Output streams that a reader going away does not turn into a traceback.

`tuichat run m hi | head -c 30`: once `head` has what it wants it exits, and the next write
fails with EPIPE (BrokenPipeError); after an SSH drop, a write to the hung-up terminal fails
with EIO. Either way nobody reads any more: the command carries on (a reply is still received
to the end and saved), what it prints is dropped, and it exits with the status it would have
had. Any other write error (a full disk under a redirect) is raised as before.

The app's terminal driver writes through a QuietStream too (tuichat.ui.terminal): after a
hang-up its writer thread would otherwise die on EIO, and the app block for ever on a full
output queue instead of saving the reply and ending.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO


class QuietStream:
    """Wraps a text stream: writes after its reader has gone are dropped, not raised."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self._stream.write(text)
            except OSError as error:
                self._gone(error)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self._stream.flush()
            except OSError as error:
                self._gone(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _gone(self, error: OSError) -> None:
        if not _reader_gone(error, self._stream):
            raise error
        self.reader_gone = True
        # What is still buffered, and anything written to the descriptor directly (the
        # interpreter's last flush at exit), goes nowhere instead of failing again.
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            fd = self._stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, fd)
            finally:
                os.close(devnull)


def _reader_gone(error: OSError, stream: TextIO) -> bool:
    if isinstance(error, BrokenPipeError):
        return True
    if error.errno != errno.EIO:
        return False
    try:  # EIO from a terminal is a hang-up; from a file it is a real disk error
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, io.UnsupportedOperation):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


@contextlib.contextmanager
def quiet_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr as QuietStreams for the block."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = QuietStream(out), QuietStream(err)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
