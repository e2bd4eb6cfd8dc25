"""Freeing a chat once another is shown, after the new one is painted."""

from __future__ import annotations

import gc
import time

from textual.timer import Timer
from textual.widget import Widget

from tuichat import heap
from tuichat.ui.widgets.gc_hold import gc_hold


class ClosedChats:
    """Frees what the chat shown before took, once `owner` has painted another.

    A chat shown is frozen (`gc.freeze`, here and by `gc_hold`): it lives as long as it is
    open, and later full passes needn't walk it (those cost 60-360 ms with a long chat,
    and scrolling up through one mounts ~25k objects a window). So showing another one
    unfreezes everything, and the chat closed is freed by a full pass, which walks the
    whole app (~100-200 ms). That pass waits until the chat shown has been painted, and
    the collector's own full passes are held till then (the objects a chat's mount builds
    set one off): run before, they held the new chat's last layouts back. Opening chats in
    quick succession (arrow keys in the chat list) pays it once, and while the user types
    or scrolls (the app's `last_input`) it waits for a pause in the keys, up to LONGEST.
    Then the pages freed go back to the system."""

    AFTER = 0.5  # seconds after a chat is shown (its layouts are done by then)
    QUIET = 0.5  # seconds without a key before the pause
    LONGEST = 5.0  # seconds after a chat is shown, keys or not

    def __init__(self, owner: Widget) -> None:
        self.owner = owner
        self._timer: Timer | None = None
        self._holding = False  # gc_hold is held until the chat closed is freed
        self._shown = 0.0  # time.monotonic() when the chat was shown

    def closing(self) -> None:
        """Another chat is about to be shown: the one shown so far can be freed once it is
        removed (frozen, it never would be: ~20k objects a chat), but not before the new
        one is painted."""
        gc.unfreeze()
        if not self._holding:
            self._holding = True
            gc_hold.hold()

    def shown(self) -> None:
        """The other chat is shown: free the one closed once it is painted."""
        if self._timer is not None:
            self._timer.stop()
        self._shown = time.monotonic()
        self._timer = self.owner.set_timer(self.AFTER, self._due)

    def _due(self) -> None:
        """Free now, unless a key came less than QUIET ago (and LONGEST has not passed)."""
        now = time.monotonic()
        typed = now - getattr(self.owner.app, "last_input", 0.0)
        if typed < self.QUIET and now - self._shown < self.LONGEST:
            self._timer = self.owner.set_timer(self.QUIET - typed, self._due)
        else:
            self._free()

    def _free(self) -> None:
        """Free the chat closed, freeze the one shown, and give the pages back. (A reply
        streaming meanwhile holds the full passes too: then its end does it.)"""
        self._timer = None
        self._let_go(full=True)
        heap.trim()

    def drop(self) -> None:
        """The owner is going (the app quits): let go of the hold, without the full pass,
        which would only hold the exit back."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._let_go(full=False)

    def _let_go(self, *, full: bool) -> None:
        if self._holding:
            self._holding = False
            gc_hold.release(full=full)
