"""The collector's full passes held while replies stream: what the stream left is freed, not frozen."""

from __future__ import annotations

import gc
import weakref

from tuichat.ui.widgets.gc_hold import GcHold


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_garbage_that_reached_the_old_generation_while_held_is_freed_at_release() -> None:
    hold = GcHold()
    hold.hold()
    try:
        node = Node()
        gone = weakref.ref(node)
        gc.collect(1)  # it survives the young passes: in the oldest generation now
        del node  # garbage there, which only a full pass frees
    finally:
        hold.release()
    try:
        assert gone() is None  # a young-only pass froze it with the live objects
    finally:
        gc.unfreeze()
