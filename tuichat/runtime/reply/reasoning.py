"""Split streamed reply text into visible content and reasoning, as Open WebUI does (spec §7.4).

Models and pipes put their chain of thought inside tags such as `<think>…</think>`; Open WebUI
shows that text as a collapsed "thought" block instead of in the answer. Text arrives in
arbitrary pieces, so a tag may be split across them (`"<thi"`, `"nk>"`): the splitter holds back
a tail that could still become a tag and decides once the next piece (or the end) arrives.
Every call costs time proportional to the piece it is given, never to the text seen so far.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

TagPair = tuple[str, str]

# Open WebUI 0.12.4 `utils/middleware.py` DEFAULT_REASONING_TAGS / DEFAULT_SOLUTION_TAGS.
DEFAULT_REASONING_TAGS: Final[tuple[TagPair, ...]] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reason>", "</reason>"),
    ("<reasoning>", "</reasoning>"),
    ("<thought>", "</thought>"),
    ("<Thought>", "</Thought>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
    ("◁think▷", "◁/think▷"),
)
SOLUTION_TAGS: Final[tuple[TagPair, ...]] = (("<|begin_of_solution|>", "<|end_of_solution|>"),)

BLOCK_SEPARATOR: Final = "\n\n"


def resolve_reasoning_tags(param: Any) -> tuple[TagPair, ...]:
    """The reasoning tag pairs for the request param `reasoning_tags`, by Open WebUI's rules.

    `False` turns detection off (no pairs); a 2-item list of strings is the only pair;
    anything else (absent, `True`, a malformed list) means the defaults.
    """
    if param is False:
        return ()
    if (
        isinstance(param, (list, tuple))
        and len(param) == 2
        and all(isinstance(tag, str) and tag for tag in param)
    ):
        return ((param[0], param[1]),)
    return DEFAULT_REASONING_TAGS


class _Tokens:
    """A fixed set of literal tokens to look for in text that arrives in pieces."""

    __slots__ = ("_find", "_partial_tail")

    def __init__(self, tokens: Iterable[str]) -> None:
        # Longest first, so the regex alternation prefers the longer of two tokens at one spot.
        ordered = sorted({token for token in tokens if token}, key=len, reverse=True)
        if not ordered:
            raise ValueError("a token set needs at least one non-empty token")
        self._find = re.compile("|".join(map(re.escape, ordered)))
        prefixes = sorted({t[:k] for t in ordered for k in range(1, len(t))}, key=len, reverse=True)
        # Matches a proper prefix of some token that runs to the end of the text. `search`
        # returns the leftmost such spot, which is the longest tail that might become a token.
        self._partial_tail = (
            re.compile("(?:" + "|".join(map(re.escape, prefixes)) + r")\Z") if prefixes else None
        )

    def find(self, text: str, pos: int) -> re.Match[str] | None:
        return self._find.search(text, pos)

    def partial_start(self, text: str, pos: int) -> int:
        """Where a tail of `text[pos:]` that could be the start of a token begins, else len(text)."""
        if self._partial_tail is None:
            return len(text)
        match = self._partial_tail.search(text, pos)
        return match.start() if match else len(text)


class ReasoningSplitter:
    """Incrementally separates reasoning blocks from visible content.

    `feed` takes the next piece of content text; text inside a reasoning tag pair goes to
    reasoning, solution tags are dropped with their inner text kept as content. `feed_reasoning`
    takes reasoning that arrived outside the text (a delta's `reasoning_content`); it forms a
    block of its own that the next visible text ends, as Open WebUI's reasoning item does.

    Reasoning comes out already formatted: each block is stripped (Open WebUI strips a block's
    text) and blocks are joined by a blank line, so the concatenation of everything returned
    is the final reasoning text and a front end can append each part as it arrives.
    """

    def __init__(
        self,
        reasoning_tags: Sequence[TagPair] = DEFAULT_REASONING_TAGS,
        solution_tags: Sequence[TagPair] = SOLUTION_TAGS,
    ) -> None:
        self._ends: dict[str, str] = {start: end for start, end in reasoning_tags}
        self._end_tokens: dict[str, _Tokens] = {end: _Tokens((end,)) for end in self._ends.values()}
        self._solution_tokens = frozenset(tag for pair in solution_tags for tag in pair)
        start_tokens = [*self._ends, *self._solution_tokens]
        self._start_tokens = _Tokens(start_tokens) if start_tokens else None
        self._held = ""  # tail of the last piece that may be the start of a tag
        self._end: _Tokens | None = None  # set while inside a tagged block
        self._out_of_band = False  # a `feed_reasoning` block is open
        # Formatting state of the current block and of the reasoning so far.
        self._block_has_text = False
        self._trailing_space: list[str] = []
        self._any_block_text = False

    @classmethod
    def for_param(cls, reasoning_tags: Any) -> ReasoningSplitter:
        """The splitter for a request's `reasoning_tags` param; `False` disables every tag."""
        pairs = resolve_reasoning_tags(reasoning_tags)
        return cls(pairs, SOLUTION_TAGS if pairs else ())

    def feed(self, text: str) -> tuple[str, str]:
        """The next piece of content text; returns (visible text, reasoning text) now known."""
        if self._start_tokens is None:
            if text:
                self._end_out_of_band()
            return text, ""
        buffer = self._held + text if self._held else text
        self._held = ""
        content: list[str] = []
        reasoning: list[str] = []
        pos = 0
        while True:
            tokens = self._end if self._end is not None else self._start_tokens
            match = tokens.find(buffer, pos)
            if match is None:
                cut = tokens.partial_start(buffer, pos)
                self._emit(buffer[pos:cut], content, reasoning)
                self._held = buffer[cut:]
                break
            self._emit(buffer[pos : match.start()], content, reasoning)
            self._on_tag(match.group())
            pos = match.end()
        return "".join(content), "".join(reasoning)

    def feed_reasoning(self, text: str) -> str:
        """Reasoning that arrived outside the content; returns the reasoning text to append."""
        if self._end is None and not self._out_of_band:
            self._open_block()
            self._out_of_band = True
        return self._format_reasoning(text)

    def flush(self) -> tuple[str, str]:
        """End of the text: a held tail is released, and an unclosed block stays reasoning."""
        held, self._held = self._held, ""
        if self._end is not None:
            reasoning = self._format_reasoning(held)
            self._close_block()
            return "", reasoning
        self._close_block()
        return held, ""

    def reset(self) -> None:
        """The content was replaced wholesale: forget any half-seen tag and open block."""
        self._held = ""
        self._close_block()

    def _emit(self, text: str, content: list[str], reasoning: list[str]) -> None:
        if not text:
            return
        if self._end is not None:
            reasoning.append(self._format_reasoning(text))
        else:
            self._end_out_of_band()
            content.append(text)

    def _on_tag(self, tag: str) -> None:
        if self._end is not None:  # the only token searched for inside a block is its end
            self._close_block()
        elif tag not in self._solution_tokens:  # solution tags are just dropped
            self._open_block()
            self._end = self._end_tokens[self._ends[tag]]

    def _end_out_of_band(self) -> None:
        if self._out_of_band:
            self._close_block()

    def _open_block(self) -> None:
        # Back-to-back blocks stay separate blocks, as in Open WebUI.
        self._close_block()

    def _close_block(self) -> None:
        # Trailing whitespace of a block is dropped, as Open WebUI strips the block's text.
        self._trailing_space.clear()
        self._any_block_text = self._any_block_text or self._block_has_text
        self._block_has_text = False
        self._end = None
        self._out_of_band = False

    def _format_reasoning(self, text: str) -> str:
        """Strip the block incrementally: drop leading space, hold trailing space until more text."""
        if not self._block_has_text:
            text = text.lstrip()
            if not text:
                return ""
        body = text.rstrip()
        if not body:
            self._trailing_space.append(text)
            return ""
        if self._block_has_text:
            prefix = "".join(self._trailing_space)
            self._trailing_space.clear()
        else:
            prefix = BLOCK_SEPARATOR if self._any_block_text else ""
            self._block_has_text = True
        if len(body) < len(text):
            self._trailing_space.append(text[len(body) :])
        return prefix + body
