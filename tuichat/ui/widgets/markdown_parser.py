"""The Markdown parser every reply's text is read with."""

from __future__ import annotations

import re
from functools import cache

from markdown_it import MarkdownIt

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what markdown-it counts as the end of a line


@cache
def parser() -> MarkdownIt:
    # Textual's Markdown parser, but raw HTML is text: Textual drops HTML blocks and tags,
    # so a pipe's `<br>` or `<div>…</div>` would vanish; shown as written, nothing is lost.
    return MarkdownIt("gfm-like", {"html": False})


def line_start(text: str, line: int) -> int:
    """Where line `line` (0-based, as markdown-it counts lines) of `text` starts."""
    if line <= 0:
        return 0
    breaks = _LINE_BREAK.finditer(text)
    for _ in range(line - 1):
        next(breaks)
    return next(breaks).end()
