"""How much of a reply's text the screen shows: the first DISPLAY_LIMIT characters.

Rendered Markdown costs about a hundred bytes of memory a character and its layout grows
with it, so a pipe that floods megabytes would grow the app by gigabytes and stall typing for
seconds. The reply itself is kept whole (stored, exported, copied); the screen shows its
start and a note under it says how long it is and how to read all of it.
"""

from __future__ import annotations

DISPLAY_LIMIT = 256 * 1024  # characters of a reply's text, and of its thought, shown


class ShownPart:
    """A growing text of which the first `limit` characters are shown."""

    __slots__ = ("limit", "total", "shown")

    def __init__(self, limit: int | None = None) -> None:
        self.limit = DISPLAY_LIMIT if limit is None else limit
        self.total = 0  # characters of the text so far
        self.shown = 0  # characters of it passed on to be shown

    def add(self, text: str) -> str:
        """Take `text`, appended to the text; what of it to show."""
        self.total += len(text)
        room = self.limit - self.shown
        piece = text if len(text) <= room else text[: max(room, 0)]
        self.shown += len(piece)
        return piece

    def restart(self, text: str) -> str:
        """The text is `text` now: what of it to show, in place of what was."""
        self.total = self.shown = 0
        return self.add(text)

    @property
    def cut(self) -> bool:
        return self.total > self.shown


def shown_start(text: str) -> str:
    """What of a stored reply's `text` to show."""
    return text if len(text) <= DISPLAY_LIMIT else text[:DISPLAY_LIMIT]


def cut_note(total: int, shown: int, *, streaming: bool) -> str:
    """The line under a reply whose text is longer than what is shown."""
    if streaming:
        return f"{total:,} characters so far: only the first {shown:,} are shown; the rest is kept."
    return (
        f"This reply has {total:,} characters: only the first {shown:,} are shown, to keep the app "
        "quick. All of it is kept: press F9 to export the chat and read it whole."
    )
