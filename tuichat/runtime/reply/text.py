"""A reply's text as it grows: what it is, and what front ends have been shown of it.

Open WebUI strips a streamed reply's text when the stream ends (spec §7.4). A front end that
showed every piece as it came would then have to show the whole text again, stripped. So
whitespace that the strip may remove is held back: trailing whitespace until more text
follows it, and, once the reply streams, leading whitespace for good. What front ends were
shown is then always the start of the final text, and the end of a reply adds at most what
was held back, instead of re-rendering everything.

Appending costs time proportional to the piece appended: the text is kept as a list of
pieces and joined only when read (the join is kept).
"""

from __future__ import annotations


class Text:
    """Text built by appending: pieces are joined only when read, and the join is kept."""

    __slots__ = ("_pieces",)

    def __init__(self) -> None:
        self._pieces: list[str] = []

    def append(self, text: str) -> None:
        if text:
            self._pieces.append(text)

    def set(self, text: str) -> None:
        self._pieces = [text] if text else []

    def read(self) -> str:
        if len(self._pieces) > 1:
            self._pieces = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""


class VisibleText:
    """The visible text of a reply and how much of it has been shown (see the module doc).

    What was shown is `text[lead : len(text) - len(held)]`: `lead` leading whitespace
    characters were dropped, `held` is the whitespace at the end not shown yet."""

    __slots__ = ("_text", "_held", "_lead", "_shown_any")

    def __init__(self) -> None:
        self._text = Text()
        self._held = ""
        self._lead = 0
        self._shown_any = False  # anything but whitespace shown since the text (re)started

    def read(self) -> str:
        """The text exactly as received (nothing stripped)."""
        return self._text.read()

    def append(self, text: str, *, streamed: bool) -> str:
        """Add `text`; returns what front ends should add to what they show."""
        if not text:
            return ""
        self._text.append(text)
        return self._show(text, streamed)

    def replace(self, text: str, *, streamed: bool) -> str:
        """Start over with `text`; returns what front ends should show instead."""
        self._text.set(text)
        self._held, self._lead, self._shown_any = "", 0, False
        return self._show(text, streamed)

    def finish(self, *, streamed: bool) -> tuple[str, str, bool]:
        """The final text (stripped if the reply streamed, as Open WebUI does), what front
        ends still need to be shown, and whether that replaces what they show (True) or
        adds to it (False). Replacing is needed only when whitespace that the strip removed
        was shown before the reply started streaming."""
        text = self.read()
        held, self._held = self._held, ""
        if streamed:
            final = text.strip()
            leading = len(text) - len(text.lstrip())
            exact = self._lead == leading or not self._shown_any
            self._text.set(final)
            return (final, "", False) if exact else (final, final, True)
        if self._lead == 0:
            return text, held, False
        return text, text, True

    def _show(self, text: str, streamed: bool) -> str:
        pending = self._held + text
        shown = pending.rstrip()
        self._held = pending[len(shown) :]
        if not self._shown_any and streamed and shown:
            kept = shown.lstrip()
            self._lead += len(shown) - len(kept)
            shown = kept
        elif not self._shown_any and streamed:
            # Only whitespace so far: it is leading whitespace, which the strip removes.
            self._lead += len(self._held)
            self._held = ""
        self._shown_any = self._shown_any or bool(shown)
        return shown
