"""Markdown as the plain text a reader sees: for one-line previews (search snippets), where
`**`, backticks, heading and list marks are noise. Only the marks are removed; every word and
the spaces between them stay. Made for fragments (a snippet cut mid-sentence): a mark whose
pair is outside the fragment goes too."""

from __future__ import annotations

import re
from typing import Final

_LINE_MARKS: Final = re.compile(r"(?m)^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d+[.)][ \t]+)")
_FENCE: Final = re.compile(r"```[\w+-]*")
_LINK: Final = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_TAG: Final = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^<>\n]*)?/?>")
# `*`/`_` runs that open or close emphasis: next to a space or an edge, not inside a word
# (snake_case and 2*3 keep theirs).
_EMPHASIS: Final = re.compile(r"(?<![\w*_])[*_]+(?=\S)|(?<=\S)[*_]+(?![\w*_])")
_TABLE_RULE: Final = re.compile(r"(?m)^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$")
_SPACE: Final = re.compile(r"\s+")


def markdown_to_plain(text: str) -> str:
    """`text` without Markdown marks, its whitespace (newlines too) collapsed to single spaces."""
    text = _FENCE.sub(" ", text)
    text = _TABLE_RULE.sub(" ", text)
    text = _LINE_MARKS.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _TAG.sub(" ", text)
    text = text.replace("`", "").replace("|", " ")
    text = _EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text)
