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
    collected and everything left is frozen (`gc.freeze`), as the conversation does with a chat's history:
    it lives as long as the chat is open, and later full passes needn't walk it.

    The stream's garbage that reached the old generation is frozen with it, until another
    chat is opened (the conversation unfreezes and collects then). After a flood that is
    20,000-50,000 objects, ~30 MB a reply (bench/memory_rounds.py), so a large reply's end
    (`full`) collects the old generation first. Not after every reply: that pass walks
    everything the stream built, 0.5 s at the end of bench/tui_stream.py's 12k-character reply
    against 0 ms for the young ones (the finish's worst stall went 94 ms -> 609 ms)."""

    def __init__(self) -> None:
        self.holders = 0
        self.saved: tuple[int, int, int] | None = None
        self.full = False  # a holder released asked for a full pass

    def hold(self) -> None:
        self.holders += 1
        if self.holders == 1:
            self.saved = gc.get_threshold()
            gc.set_threshold(self.saved[0], self.saved[1], 1_000_000)

    def release(self, *, full: bool = False) -> None:
        """`full`: a large reply ended; its garbage is freed, not frozen (see above)."""
        self.full = self.full or full
        self.holders -= 1
        if self.holders == 0 and self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
            gc.collect(2 if self.full else 1)
            gc.freeze()
            self.full = False


gc_hold = GcHold()
