"""Keys reach what they were typed for, one at a time, in order.

Textual forwards each key to the focused widget as it takes it from the terminal, but a
non-priority binding only runs when the key has bubbled back up to the app. Keys typed quickly
(one read from the terminal) were all forwarded to the prompt before the first one's binding had
opened its dialog: F9, a path and Enter sent the path as a message. So the app lets a key (or a
paste) go only once the one before it has been handled all the way, and any screen it opened or
closed has mounted and taken focus; keys that come meanwhile wait here, in order.

"Handled all the way" is learnt without timing: a callback is queued on the widget the key went
to, right behind it. Queues are first in, first out, so when it runs the widget is done with the
key; if the key went on to the parent (not stopped), the next callback is queued there, and so
on. A key typed into the prompt stops there: two hops (the widget, then the app), not one per
ancestor. A printable character that no binding takes is not followed at all: it can only be
typed (or ignored), so text goes as fast as without the gate. If the screen on top changed meanwhile, the same is done through the new screen's
queue, after its mount and resume, before the next key is let go.

A key whose action opens its dialog from a worker (the pipes screen's workflows) says so with
`expect_screen`: the keys after it wait until that worker shows a screen or ends. A screen that
needs a moment before its keys mean anything (the pipes screen lists the functions first) says
so with a `takes_keys` property that is False until then, and calls `screen_ready` when it is.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from textual import events
from textual.app import ScreenStackError

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump
    from textual.screen import Screen
    from textual.timer import Timer

log = logging.getLogger(__name__)

# Seconds held keys wait for a key that never finished (its widget was removed with the key in
# its queue) or a screen that was expected and never came; a safety net, not the normal path.
LOST_PROBE = 2.0

HeldEvent = events.Key | events.Paste


class _Trail:
    """One key's way through the widgets (identity only: a newer trail replaces it)."""

    def __init__(self, screen: Screen[object] | None) -> None:
        self.screen = screen  # the screen on top when the key was handed on


class KeyGate:
    """The app's keys, let through one at a time (see the module's docstring)."""

    def __init__(self, app: App[object], deliver: Callable[[HeldEvent], Awaitable[None]]) -> None:
        self.app = app
        self._deliver = deliver  # hands an event on as Textual does (to the focused widget)
        self._held: deque[HeldEvent] = deque()
        self._waiting: _Trail | None = None  # the key (or screen) the next key waits for
        self._lost_timer: Timer | None = None
        self._expecting = False  # a worker a key started is about to show a screen
        self.handed_on = 0  # keys and pastes handed on so far (tests wait for theirs)

    @property
    def idle(self) -> bool:
        """No key is on its way, and none is waiting."""
        return self._waiting is None and not self._held and not self._expecting

    def hold(self, event: HeldEvent) -> bool:
        """True when `event` must wait (a key before it is still on its way); it is kept."""
        if self.idle:
            return False
        self._held.append(event)
        if self._lost_timer is None:
            self._lost_timer = self.app.set_timer(LOST_PROBE, self._probe_lost)
        return True

    def sent(self, event: HeldEvent) -> None:
        """`event` was just handed on: the next waits until it has been handled, unless it is
        a plain character (it can open nothing: text typed goes at full speed)."""
        self.handed_on += 1
        screen = self._top()
        if screen is None or self._plain(event, screen):  # (None: the app is closing)
            return
        self._follow(event, screen.focused or screen, _Trail(screen))

    @staticmethod
    def _plain(event: HeldEvent, screen: Screen[object]) -> bool:
        """A printable character no binding on the screen takes: it is typed, or ignored.
        (The binding chain is Textual's own, from the focused widget to the app.)"""
        if not isinstance(event, events.Key) or not event.is_printable:
            return False
        return not any(event.key in bindings.key_to_bindings for _, bindings in screen._modal_binding_chain)

    # -- a worker's screen, and a screen that is not ready yet ---------------------------------
    def expect_screen(self) -> None:
        """The key being handled started a worker that will show a screen: hold the next keys
        until it does (`screen_pushed`) or ends (`screen_ready`)."""
        self._expecting = True

    def screen_pushed(self) -> None:
        if self._expecting:
            self._expecting = False
            self._settle_screen()

    def screen_ready(self) -> None:
        """The screen expected has come and takes keys (or will not come: its worker ended)."""
        if self._expecting:
            self._expecting = False
            self._settle_screen()

    # -- following a key -------------------------------------------------------------------------
    def _top(self) -> Screen[object] | None:
        try:
            return self.app.screen
        except ScreenStackError:
            return None

    def _follow(self, event: HeldEvent | None, node: MessagePump, trail: _Trail) -> None:
        """Queue a look behind `event` on `node`: done there, or gone on to its parent."""
        self._waiting = trail

        def look() -> None:
            if trail is not self._waiting:
                return  # given up on (see _probe_lost)
            parent = node._parent
            went_on = (
                event is not None and event.bubble and not event._stop_propagation
                and parent is not None and node is not self.app and node.is_parent_active and node.is_attached
            )  # fmt: skip
            if went_on and parent is not None:
                self._follow(event, parent, trail)
            elif node is self.app:
                self.app.call_next(self._arrived, trail)
            elif not self.app.call_later(self._arrived, trail):
                self._waiting = None

        if not node.call_later(look):  # closing: nothing more will happen there
            self._waiting = None

    def _settle_screen(self) -> None:
        screen = self._top()
        if screen is not None:
            self._follow(None, screen, _Trail(screen))

    async def _arrived(self, trail: _Trail) -> None:
        """A key has been handled: let the next held one go, once the screen on top is settled."""
        if trail is not self._waiting:
            return
        self._waiting = None
        if self._lost_timer is not None:
            self._lost_timer.reset()
        screen = self._top()
        if screen is None:
            self._held.clear()  # the app is closing: nothing is there to take them
            return
        if trail.screen is not screen:  # a screen opened or closed: wait for it too
            self._settle_screen()
            return
        if not getattr(screen, "takes_keys", True):
            self._expecting = True  # until the screen calls screen_ready
            return
        if not self._expecting:
            await self._release()

    async def _release(self) -> None:
        """Hand on held events until one of them has to be waited for."""
        while self._held and self._waiting is None and not self._expecting:
            event = self._held.popleft()
            await self._deliver(event)
            self.sent(event)
        if not self._held and self._lost_timer is not None:
            self._lost_timer.stop()
            self._lost_timer = None

    async def _probe_lost(self) -> None:
        self._lost_timer = None
        if (self._waiting is not None or self._expecting) and self._held:
            log.warning("a key, or the screen it opened, never finished: letting %d held key(s) go", len(self._held))
            self._waiting, self._expecting = None, False
            if self._top() is None:
                self._held.clear()
                return
            await self._release()
