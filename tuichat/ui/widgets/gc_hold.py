"""Holding the garbage collector's full passes while replies stream or long chats mount."""

from __future__ import annotations

import gc


class GcHold:
    """The garbage collector's full passes are off while replies stream (and while a long
    chat's earlier messages mount).

    Each flush builds and drops thousands of objects (widgets, strips, geometry), so full
    passes came every few seconds, and each walked the whole app: 0.1-0.5 s, the stream's
    worst stalls (bench/tui_stream.py). Young collections go on as usual (rarer ones took
    longer each, for no less work). When the last stream ends, a full pass collects what the
    stream left (the chat's history is frozen, so it walks only what was made since) and
    everything left is frozen (`gc.freeze`), as the conversation does with a chat's history:
    it lives as long as the chat is open, and later full passes needn't walk it. Only the
    young generations were collected there before: the stream's garbage that had reached the
    old one was frozen with the rest and kept until another chat was opened (20,000-50,000
    objects a reply; a 5 MB flood's reply and its neighbours grew the app ~30 MB each, for
    good in a chat left open; bench/memory_rounds.py)."""

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
            gc.collect()
            gc.freeze()


gc_hold = GcHold()
