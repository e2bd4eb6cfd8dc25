"""The collector's full passes held while replies stream: what the stream left is freed, not frozen."""

from __future__ import annotations

import gc
import weakref

from tuichat.ui.widgets.gc_hold import GcHold


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_garbage_that_reached_the_old_generation_while_held_is_freed_at_a_full_release() -> None:
    """A large reply's end (a flood's garbage); a holder asking for it is enough."""
    hold = GcHold()
    hold.hold()
    hold.hold()  # a second stream, ending last
    try:
        node = Node()
        gone = weakref.ref(node)
        gc.collect(1)  # it survives the young passes: in the oldest generation now
        del node  # garbage there, which only a full pass frees
        hold.release(full=True)
    finally:
        hold.release()
    try:
        assert gone() is None  # a young-only pass froze it with the live objects
    finally:
        gc.unfreeze()


def test_an_ordinary_release_collects_the_young_and_freezes_what_is_left() -> None:
    """No full pass after an ordinary reply (it walks all the stream built: 0.5 s); what the
    young passes leave is frozen, and the next chat opened unfreezes and collects it."""
    hold = GcHold()
    hold.hold()
    try:
        young = Node()
        gone = weakref.ref(young)
        del young  # garbage in the young generation: freed by the release's young pass
        kept = Node()
    finally:
        hold.release()
    try:
        assert gone() is None
        assert gc.get_freeze_count() > 0 and kept.me is kept  # the live ones are frozen
        assert hold.saved is None and gc.get_threshold()[2] != 1_000_000
    finally:
        gc.unfreeze()
