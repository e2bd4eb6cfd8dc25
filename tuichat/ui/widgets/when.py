"""Stored times as the chat screen shows them: compact, in local time.

A message says its time of day when it is from today and its date otherwise; the chat list
groups chats by the day they were last used (Today, Yesterday, then the date). `now` is the
one clock read here, so a test can fix it.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta


def now() -> float:
    """Seconds since the epoch (tests replace this to fix what "today" is)."""
    return time.time()


def _day(seconds: float) -> date:
    return datetime.fromtimestamp(seconds).date()


def short_date(seconds: float, today: date | None = None) -> str:
    """`3 Dec`, or `3 Dec 2025` when not this year."""
    day, today = _day(seconds), today or _day(now())
    text = f"{day.day} {day:%b}"
    return text if day.year == today.year else f"{text} {day.year}"


def clock(seconds: float) -> str:
    """`14:05`."""
    return f"{datetime.fromtimestamp(seconds):%H:%M}"


def stamp(seconds: float) -> str:
    """A message's time: `14:05` today, `3 Dec 14:05` another day."""
    today = _day(now())
    if _day(seconds) == today:
        return clock(seconds)
    return f"{short_date(seconds, today)} {clock(seconds)}"


def day_label(seconds: float) -> str:
    """The chat list's group: `Today`, `Yesterday`, else the date (`Mon 1 Dec`)."""
    today, day = _day(now()), _day(seconds)
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"{day:%a} {short_date(seconds, today)}"
