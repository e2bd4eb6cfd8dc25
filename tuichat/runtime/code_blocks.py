"""The fenced code blocks of a Markdown message, for copying one on its own (F5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# A fence opens with 3+ backticks or tildes (indented at most 3 spaces), then an info string
# whose first word is the language; it closes with the same character, at least as many.
_OPEN: Final = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*)$")


@dataclass(frozen=True)
class CodeBlock:
    language: str  # "" when the fence names none
    text: str  # the code, without the fences; ends without a newline

    @property
    def lines(self) -> int:
        return self.text.count("\n") + 1 if self.text else 0


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every fenced block, in order; one left open runs to the end (as Markdown shows it)."""
    blocks: list[CodeBlock] = []
    fence: str | None = None
    language = ""
    body: list[str] = []
    for line in markdown.splitlines():
        if fence is None:
            opened = _OPEN.match(line)
            if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
                fence, language, body = opened["fence"], (opened["info"].split() or [""])[0], []
            continue
        stripped = line.strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence) and len(line) - len(line.lstrip(" ")) <= 3:
            blocks.append(CodeBlock(language, "\n".join(body)))
            fence = None
            continue
        body.append(line)
    if fence is not None:
        blocks.append(CodeBlock(language, "\n".join(body)))
    return blocks
