"""Holding the garbage collector's full passes while replies stream or long chats mount."""

from __future__ import annotations

import gc


class GcHold:
    """The garbage collector's full passes are off while replies stream (and while a long
    chat's earlier messages mount).

    Each flush builds and drops thousands of objects (widgets, strips, geometry), so full
    passes came every few seconds, and each walked the whole app: 0.1-0.5 s, the stream's
    worst stalls (bench/tui_stream.py). Young collections go on as usual (rarer ones took
    longer each, for no less work). When the last stream ends, the young generations are
    collected and everything left is frozen (`gc.freeze`), as the conversation does with a
    chat's history: it lives as long as the chat is open, and later full passes needn't
    walk it."""

    def __init__(self) -> None:
        self.holders = 0
        self.saved: tuple[int, int, int] | None = None

    def hold(self) -> None:
        self.holders += 1
        if self.holders == 1:
            self.saved = gc.get_threshold()
            gc.set_threshold(self.saved[0], self.saved[1], 1_000_000)

    def release(self) -> None:
        self.holders -= 1
        if self.holders == 0 and self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
            gc.collect(1)
            gc.freeze()


gc_hold = GcHold()
