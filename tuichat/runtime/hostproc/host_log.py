"""The host log: what the pipe host printed that belongs to no one call.

A module's top-level code run while a source is checked or the models are listed, a thread
a pipe started that prints after its call ended, faulthandler's traceback, the host's own
warnings. The host writes these to its stderr (`capture.Capture.host_log`); the app keeps
the last `LIMIT` lines here, with the time each arrived, across host restarts, and counts
the ones it let go. The pipes screen shows them; the CLI prints them on stderr as they come.
Lines are neutralised on the way in: they are pipe output, shown on a terminal.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass

from tuichat.runtime.untrusted import neutralise

LIMIT = 2000  # lines kept
MAX_LINE = 4000  # characters kept of one line


@dataclass(frozen=True, slots=True)
class HostLine:
    time: float  # time.time() when the app read it
    text: str  # neutralised, at most MAX_LINE characters


Listener = Callable[[HostLine], None]


class HostLog:
    def __init__(self, limit: int = LIMIT) -> None:
        self.lines: collections.deque[HostLine] = collections.deque(maxlen=limit)
        self.dropped = 0  # lines let go to keep the last `limit`
        self._listeners: list[Listener] = []

    def add(self, text: str) -> None:
        text = neutralise(text)
        if len(text) > MAX_LINE:
            text = f"{text[:MAX_LINE]}… ({len(text) - MAX_LINE:,} more characters not kept)"
        line = HostLine(time.time(), text)
        if len(self.lines) == self.lines.maxlen:
            self.dropped += 1
        self.lines.append(line)
        for listener in list(self._listeners):
            listener(line)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with each line from now on; returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None
