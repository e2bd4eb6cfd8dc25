"""Plain-text output for the CLI: tables, JSON, and the streams every command prints through.

Commands print pipe-written text (replies, names, titles, errors, frontmatter) among their own,
so `shown_streams` puts a `ShownStream` over stdout and stderr for the whole command: every
control character written shows as its picture (`␛]52;…`) rather than acting on the terminal
(see `tuichat.runtime.untrusted`). JSON output passes through it unchanged: `dump_json`
escapes every control character, so the value stays verbatim.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

from tuichat.runtime.untrusted import neutralise, shown_json


def dump_json(value: Any, *, indent: int | None = None) -> str:
    return shown_json(json.dumps(value, ensure_ascii=False, indent=indent, default=repr))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None) -> None:
    # sys.stdout looked up now, not at import: the command's streams are in place by then.
    out = out if out is not None else sys.stdout
    # Cells are neutralised before measuring: a control character is one visible cell then.
    cells = [[neutralise(str(h)) for h in headers]] + [["" if c is None else neutralise(str(c)) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


class ShownStream:
    """Wraps a text stream: control characters written to it are shown, not obeyed."""

    def __init__(self, stream: TextIO) -> None:
        self.verbatim = stream  # for output that is a file's exact bytes (a source, redirected)

    def write(self, text: str) -> int:
        self.verbatim.write(neutralise(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.verbatim, name)


def verbatim(stream: TextIO) -> TextIO:
    """The stream under a `ShownStream` (the stream itself otherwise)."""
    return stream.verbatim if isinstance(stream, ShownStream) else stream


@contextlib.contextmanager
def shown_streams() -> Iterator[None]:
    """sys.stdout and sys.stderr as ShownStreams for the block."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = ShownStream(out), ShownStream(err)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
