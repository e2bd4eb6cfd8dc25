"""Text a pipe wrote, made safe to show on a terminal.

A reply is text from a remote model; titles, statuses, notifications, errors, model names and
frontmatter are written by pipe code. Any of them may hold terminal control sequences: an OSC
52 clipboard write (`ESC ] 52 ; c ; ... BEL`), a screen clear (`ESC [ 2 J`), a title change, a
cursor query whose answer the terminal types into the app, or the same as one C1 character
(`\\x9b` is CSI). Written raw, the terminal obeys them. So wherever such text is displayed or
exported as text (the app, `tuichat run`, every CLI listing, the Markdown export) it goes
through `neutralise` first, which shows each control character instead: `␛]52;c;...␇`.
What a pipe sent stays as it was where it is stored and in JSON output (`shown_json` escapes
it, so even JSON on a terminal obeys nothing).

Per character, with no state: a sequence split across stream chunks is neutralised piece by
piece just the same (a CRLF split between two chunks shows its CR), and neutralised text
passes through again unchanged.
"""

from __future__ import annotations

import re

# C0 controls but newline and tab, DEL and the C1 controls: what makes a terminal act rather
# than show. Newline and tab are layout, and so is a carriage return just before a newline (a
# CRLF line end, which overwrites nothing); a lone one is a trick (it writes over the line).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")
_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # CR included: text with none needs no work
# DEL and C1 are the controls JSON leaves raw (it escapes C0 itself); both are legal escaped.
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the control pictures: ESC reads ␛, BEL ␇, CR ␍
    return "␡" if code == 0x7F else f"\\x{code:02x}"  # C1 has no pictures: `\x9b`


def neutralise(text: str) -> str:
    """`text` with every terminal control character shown, not obeyed: `␛[2J`, `\\x9b`.
    Newlines, tabs and CRLF line ends are kept; everything else, Unicode included, is left
    as it is."""
    if _ANY_CONTROL.search(text) is None:  # most text: one scan for a set, the quickest check
        return text
    return _CONTROLS.sub(_visible, text)


def has_controls(text: str) -> bool:
    """Whether `neutralise` would change `text`."""
    return _CONTROLS.search(text) is not None


def shown_json(encoded: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with DEL and C1 written as
    `\\u00XX` escapes: the same JSON value, kept verbatim, but a terminal it is printed on
    sees no control character (JSON escapes C0 controls already)."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", encoded)
