"""Errors the runtime raises to its callers, and how pipe exceptions are shown."""

from __future__ import annotations

import traceback
from pathlib import Path

# Frames from tuichat itself (the runtime, the open_webui stand-ins) are noise to a pipe author.
_TUICHAT_DIR = str(Path(__file__).resolve().parent.parent)


class RuntimeErrorBase(Exception):
    """An error with a message meant for the person using tuichat."""


class UnknownModel(RuntimeErrorBase):
    pass


class FunctionDisabled(RuntimeErrorBase):
    pass


class FunctionLoadError(RuntimeErrorBase):
    """Loading a function's source failed; `detail` holds the pipe-side traceback."""

    def __init__(
        self,
        function_id: str,
        message: str,
        detail: str = "",
        *,
        line: int | None = None,
        column: int | None = None,
        missing: object | None = None,
    ) -> None:
        super().__init__(message)
        self.function_id = function_id
        self.detail = detail
        self.line = line  # where in the pipe's source it failed, 1-based, when known
        self.column = column
        self.missing = missing  # a runtime.missing.MissingModule the source imports but lacks


class InvalidValves(RuntimeErrorBase):
    pass


class EscapedBaseException(Exception):
    """A SystemExit or KeyboardInterrupt that pipe code raised, carried as an ordinary
    error so it fails the call instead of ending the app."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original
        self.__traceback__ = original.__traceback__


def unwrap(exc: BaseException) -> BaseException:
    return exc.original if isinstance(exc, EscapedBaseException) else exc


def describe(exc: BaseException) -> str:
    """One line naming the error, with the line and column of a syntax error."""
    exc = unwrap(exc)
    if isinstance(exc, SyntaxError):
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        source = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        return f"{type(exc).__name__}: {exc.msg} ({where}){source}"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def pipe_traceback(exc: BaseException) -> str:
    """The traceback without tuichat's own frames, so it reads as the pipe's."""
    exc = unwrap(exc)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_TUICHAT_DIR)]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def error_position(exc: BaseException, filename: str) -> tuple[int, int] | None:
    """(line, column), 1-based, of the innermost place in `filename` that raised `exc`."""
    exc = unwrap(exc)
    if isinstance(exc, SyntaxError) and exc.filename == filename and exc.lineno:
        return exc.lineno, max(exc.offset or 1, 1)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == filename and frame.lineno:
            return frame.lineno, (frame.colno or 0) + 1
    return None
