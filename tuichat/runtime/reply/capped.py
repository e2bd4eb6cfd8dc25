"""A reply's activity, capped: a pipe that emits events in a loop must not grow it without bound.

A reply keeps its first MAX_ACTIVITY entries (and statuses: `keep_status`) and counts the rest,
saying so in the activity when the cap is reached and, at the end, how many were not kept. A few
errors and filter hook records past the cap are still kept: they say how the reply ended. (The host keeps at most 2,000
lines of one call's output already: `hostproc.capture`.)
"""

from __future__ import annotations

from typing import Any

from tuichat.runtime.reply.model import ActivityEntry, ActivityKind

MAX_ACTIVITY = 10_000  # activity entries, and statuses, a reply keeps
_ERRORS_PAST_CAP = 100


def note(text: str) -> dict[str, Any]:
    """An activity line from tuichat itself (shown as `[tuichat] text`)."""
    return {"stream": "tuichat", "text": text}


class CappedActivity:
    """Appends to a reply's activity list up to the cap; counts what it drops."""

    __slots__ = ("entries", "dropped")

    def __init__(self, entries: list[ActivityEntry]) -> None:
        self.entries = entries
        self.dropped = 0

    def add(self, kind: ActivityKind, data: Any, at: float, source: dict[str, Any] | None = None) -> ActivityEntry | None:
        """The entry kept, or None when it was only counted (the first one dropped is
        replaced by a note saying the cap is reached)."""
        entries = self.entries
        if len(entries) >= MAX_ACTIVITY and (not _says_how(kind, data) or len(entries) >= MAX_ACTIVITY + _ERRORS_PAST_CAP):
            self.dropped += 1
            if self.dropped > 1:
                return None
            kind, data, source = "log", note(f"this reply has {MAX_ACTIVITY:,} activity entries: later ones are counted, not kept"), None
        entry = ActivityEntry(at, kind, data, source)
        entries.append(entry)
        return entry

    def close(self) -> None:
        """The reply ended: say how many entries were not kept, if any."""
        if self.dropped:
            text = f"{self.dropped:,} more activity entries were not kept (a reply keeps {MAX_ACTIVITY:,})"
            self.entries.append(ActivityEntry(self.entries[-1].at, "log", note(text)))
            self.dropped = 0


def _says_how(kind: ActivityKind, data: Any) -> bool:
    """An error, a chat-path filter hook's record (a few a turn: what ran, what it changed,
    what failed), a tool call's, or a legacy tool-calling step's: kept past the cap, as they say
    how the reply came to be."""
    if kind == "error":
        return True
    return kind == "log" and isinstance(data, dict) and (("filter" in data and "hook" in data) or "tool" in data)


def keep_status(statuses: list[dict[str, Any]], data: dict[str, Any]) -> None:
    """Add a status: the first MAX_ACTIVITY are kept, then the last one is the latest."""
    if len(statuses) < MAX_ACTIVITY:
        statuses.append(data)
    else:
        statuses[-1] = data
