"""Open WebUI's rich reply blocks, split from reply text: `<details>` folds and image lines.

Pipes (and Open WebUI's own middleware, in versions before 0.12) write tool calls, reasoning
and code runs into the reply text as HTML blocks:

    <details type="tool_calls" done="true" id="call_1" name="get_weather" arguments="{&quot;city&quot;: …}" result="…">
    <summary>Tool Executed</summary>
    </details>

Open WebUI's page (`src/lib/utils/marked/extension.ts`) takes a block that starts a line with
`<details …>` and a line break, and runs to its matching `</details>` (nested ones counted);
attributes are `name="value"` pairs, HTML-escaped. A `<summary>` line right after the opening
tag is the summary. It also shows a line holding nothing but Markdown images as the images.

`RichSplitter` finds these in text that arrives in pieces, for the chat's view: Markdown text
goes through as it comes (so the stream stays live), a line that might open a block or hold
images is held until its line break, and a block's text is gathered until it closes. Each
call costs time proportional to the piece, never to the text so far. Lines inside a fenced
code block are never taken. `split_rich` does the same for a whole text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

_OPEN_TAG: Final = re.compile(r"<details(\s+[^>]*)?>\n")  # Open WebUI's detailsRegex
_ATTR: Final = re.compile(r'(\w+)="(.*?)"')  # its parseAttributes
_SUMMARY: Final = re.compile(r"<summary>(.*?)</summary>\n")
_NESTING: Final = re.compile(r"<details|</details>")
_CLOSE: Final = "</details>"
_IMAGE: Final = re.compile(r'!\[([^\[\]]*)\]\(\s*<?([^()\s<>]+)>?(?:\s+"[^"]*")?\s*\)')
_IMAGES_LINE: Final = re.compile(rf"\s*(?:{_IMAGE.pattern}\s*)+")
_FENCE: Final = re.compile(r" {0,3}(`{3,}|~{3,})")
_SUMMARY_MOST: Final = 4096  # characters of a block's first line searched for its summary
_HEAD: Final = 16  # characters of a line kept to decide what the line is


@dataclass(frozen=True, slots=True)
class Details:
    """One `<details>` block. `n` numbers the reply's blocks and images (a block shown while
    it streams and again when it closes keeps its `n`); `closed`: its `</details>` arrived."""

    n: int
    attrs: Mapping[str, str]  # decoded values
    summary: str = ""
    body: str = ""  # decoded, stripped (Open WebUI decodes it before rendering)
    closed: bool = False
    raw: str = ""  # the block's text as written, once closed

    @property
    def kind(self) -> str:
        return self.attrs.get("type", "")

    def done(self, reply_done: bool) -> bool:
        """Finished: `done="true"`, no `done` attribute, or the reply ended (Open WebUI's
        `messageDone`: a block left running when the reply ends is shown as finished)."""
        return reply_done or self.attrs.get("done", "true") == "true"


@dataclass(frozen=True, slots=True)
class Image:
    """A Markdown image on a line of its own (`![alt](url)`)."""

    n: int
    alt: str
    url: str


Piece = str | Details | Image  # str: Markdown text


@dataclass(slots=True)
class _Block:
    """A block being gathered: its opening tag, then its text until the matching close."""

    n: int
    attrs: dict[str, str]
    opening: str
    parts: list[str] = field(default_factory=list)
    depth: int = 1
    summary: str | None = None  # once its first line is known
    tail: str = ""  # the end of the text so far, that may be the start of a tag


class RichSplitter:
    """Splits streamed reply text into Markdown text, `Details` blocks and `Image`s."""

    def __init__(self) -> None:
        self._count = 0
        self._head = ""  # the current line's start (text mode), to spot a fence
        self._held: list[str] = []  # a line held until it ends: it may open a block or be images
        self._fence: str | None = None  # the open fence's marker
        self._block: _Block | None = None

    def feed(self, text: str) -> list[Piece]:
        """The next piece of text; returns what is now known, in order."""
        out: list[Piece] = []
        pos = 0
        while pos < len(text):
            pos = self._in_block(text, pos, out) if self._block is not None else self._in_text(text, pos, out)
        return out

    def flush(self) -> list[Piece]:
        """The end of the text: a held line is decided, an unclosed block ends unclosed."""
        out: list[Piece] = []
        if self._block is not None:
            block, self._block = self._block, None
            out.append(self._details(block, "".join(block.parts) + block.tail, closed=False))
        if self._held:
            line, self._held = "".join(self._held), []
            self._line(line, out)
        self._head = ""
        return out

    # -- text mode ----------------------------------------------------------------------------
    def _in_text(self, text: str, pos: int, out: list[Piece]) -> int:
        end = text.find("\n", pos)
        stop = len(text) if end < 0 else end + 1
        chunk = text[pos:stop]
        if self._held:
            self._held.append(chunk)
        elif not self._head and self._fence is None and self._may_hold(chunk):
            self._held.append(chunk)
        else:
            _append_text(out, chunk)
        if len(self._head) < _HEAD:
            self._head += chunk[: _HEAD - len(self._head)]
        if end >= 0:
            self._line_ended(out)
        elif self._held and not self._may_hold(self._head):
            _append_text(out, "".join(self._held))  # it can no longer be one: let it through
            self._held = []
        return stop

    @staticmethod
    def _may_hold(start: str) -> bool:
        """Whether a line starting `start` may still open a block or be images."""
        probe = start.lstrip(" ")
        if not probe:
            return True
        return "<details".startswith(probe[:8]) or "![".startswith(probe[:2])

    def _line_ended(self, out: list[Piece]) -> None:
        head, self._head = self._head, ""
        if self._held:
            line, self._held = "".join(self._held), []
            self._line(line, out)
            return
        fence = _FENCE.match(head)
        if fence is not None:
            marker = fence.group(1)
            if self._fence is None:
                self._fence = marker
            elif marker[0] == self._fence[0] and len(marker) >= len(self._fence):
                self._fence = None

    def _line(self, line: str, out: list[Piece]) -> None:
        """A whole held line: a block's opening, a line of images, or text after all."""
        opening = _OPEN_TAG.match(line)
        if opening is not None and opening.end() == len(line):
            self._count += 1
            attrs = {key: html.unescape(value) for key, value in _ATTR.findall(opening.group(1) or "")}
            self._block = _Block(self._count, attrs, line)
            out.append(Details(self._count, attrs))
            return
        if _IMAGES_LINE.fullmatch(line.rstrip("\n")):
            for alt, url in _IMAGE.findall(line):
                self._count += 1
                out.append(Image(self._count, html.unescape(alt), url))
            return
        _append_text(out, line)

    # -- inside a block -----------------------------------------------------------------------
    def _in_block(self, text: str, pos: int, out: list[Piece]) -> int:
        block = self._block
        assert block is not None
        scan = block.tail + text[pos:]
        block.tail = ""
        at = 0
        for match in _NESTING.finditer(scan):
            block.depth += 1 if match.group() == "<details" else -1
            if block.depth == 0:
                block.parts.append(scan[: match.end()])
                self._block = None
                out.append(self._details(block, "".join(block.parts), closed=True))
                # The rest of the closing line is text again, as on the page.
                rest = len(scan) - match.end()
                self._head = "x"  # mid-line: not a line start
                return len(text) - rest
            at = match.end()
        # Keep back what may be the start of a tag, so one split across pieces is seen.
        keep = max(at, len(scan) - len(_CLOSE) + 1)
        block.parts.append(scan[:keep])
        block.tail = scan[keep:]
        if block.summary is None:
            self._maybe_summary(block, out)
        return len(text)

    def _maybe_summary(self, block: _Block, out: list[Piece]) -> None:
        """Once a block's first line is in, show its summary (the fold's title) at once."""
        first = block.parts[0] if block.parts else ""
        if "\n" not in first:
            if len(block.parts) > 1 and len(first) < _SUMMARY_MOST:
                first = "".join(block.parts)
                block.parts = [first]
            if "\n" not in first:
                if len(first) >= _SUMMARY_MOST:
                    block.summary = ""  # a first line this long holds no summary
                return
        match = _SUMMARY.match(first)
        block.summary = html.unescape(match.group(1).strip()) if match else ""
        if block.summary:
            out.append(Details(block.n, block.attrs, block.summary))

    def _details(self, block: _Block, inner: str, *, closed: bool) -> Details:
        body = inner[: -len(_CLOSE)] if closed else inner
        body = body.strip()
        summary = ""
        match = _SUMMARY.match(body + "\n")
        if match:
            summary = match.group(1).strip()
            body = body[match.end() :].strip() if match.end() <= len(body) else ""
        return Details(block.n, block.attrs, html.unescape(summary), html.unescape(body), closed,
                       block.opening + inner)  # fmt: skip


def _append_text(out: list[Piece], text: str) -> None:
    if text:
        if out and isinstance(out[-1], str):
            out[-1] += text
        else:
            out.append(text)


def split_rich(text: str) -> list[Piece]:
    """A whole reply text as pieces, each block and image with its final state (a block that
    streamed shows once, closed)."""
    splitter = RichSplitter()
    pieces: list[Piece] = []
    for piece in [*splitter.feed(text), *splitter.flush()]:
        if isinstance(piece, str):
            _append_text(pieces, piece)
        elif isinstance(piece, Details) and pieces and isinstance(pieces[-1], Details) and pieces[-1].n == piece.n:
            pieces[-1] = piece
        else:
            pieces.append(piece)
    return pieces


def has_rich(text: str) -> bool:
    """Whether `text` may hold a block or an image line (a cheap test before splitting)."""
    return "<details" in text or "![" in text


# -- what a fold shows ---------------------------------------------------------------------------


def details_title(block: Details, reply_done: bool) -> str:
    """The fold's one-line title, as Open WebUI 0.12.4's page words it (Collapsible.svelte,
    ToolCallDisplay.svelte)."""
    done = block.done(reply_done)
    kind = block.kind
    if kind == "tool_calls":
        name = block.attrs.get("name", "") or "tool"
        status = block.attrs.get("status", "")
        if status == "rejected":
            return f"Denied {name}"
        if done or status in ("failed", "incomplete"):
            return f"View Result from {name}"
        return f"Executing {name}..."
    if kind == "reasoning":
        if not done:
            return "Thinking..."
        return _thought_for(block.attrs.get("duration"))
    if kind == "code_interpreter":
        return "Analyzed" if done else "Analyzing..."
    return block.summary or "Details"


def _thought_for(duration: str | None) -> str:
    try:
        seconds = float(duration) if duration else None
    except ValueError:
        seconds = None
    if seconds is None:
        return "Thought"
    if seconds < 1:
        return "Thought for less than a second"
    if seconds < 60:
        return f"Thought for {duration} seconds"
    return f"Thought for {_humanize(seconds)}"


def _humanize(seconds: float) -> str:
    """dayjs's `duration.humanize()`, which the page uses past a minute."""
    minutes, hours, days = seconds / 60, seconds / 3600, seconds / 86400
    if seconds < 90:
        return "a minute"
    if minutes < 45:
        return f"{round(minutes)} minutes"
    if minutes < 90:
        return "an hour"
    if hours < 22:
        return f"{round(hours)} hours"
    if hours < 36:
        return "a day"
    return f"{round(days)} days"


def tool_call_sections(block: Details) -> list[tuple[str, str]]:
    """A tool call's arguments and result, as the page shows them: ("Input", JSON
    pretty-printed), ("Output", …) once done; text that is not JSON as it is."""
    sections = []
    arguments = block.attrs.get("arguments", "")
    if arguments:
        sections.append(("Input", pretty(arguments)))
    result = block.attrs.get("result", "")
    if result and block.done(True):
        sections.append(("Output", pretty(result)))
    return sections


def pretty(text: str) -> str:
    """JSON (even JSON inside a JSON string) indented; other text unchanged."""
    value = parse_json_string(text)
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2, ensure_ascii=False)
    return text if isinstance(value, str) else json.dumps(value)


def parse_json_string(text: str) -> Any:
    """Unwrap JSON-encoded strings until a value that is not a string (the page's
    parseJSONString): `"\\"{…}\\""` is the object."""
    value: Any = text
    while isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            break
    return value


def tool_call_files(block: Details) -> list[dict[str, Any]]:
    """The files a finished tool call carries (`files` attribute, a JSON list)."""
    value = parse_json_string(block.attrs.get("files", ""))
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
