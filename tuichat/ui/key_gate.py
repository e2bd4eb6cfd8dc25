"""Keys reach what they were typed for, one at a time, in order.

Textual forwards each key to the focused widget as it takes it from the terminal, but a
non-priority binding only runs when the key has bubbled back up to the app. Keys typed quickly
(one read from the terminal) were all forwarded to the prompt before the first one's binding had
opened its dialog: F9, a path and Enter sent the path as a message. So the app lets a key (or a
paste) go only once the one before it has been handled all the way, and any screen it opened or
closed has mounted and taken focus; keys that come meanwhile wait here, in order.

"Handled all the way" is learnt without timing: a `Delivered` message is posted to the widget the
key went to, right after it. Queues are first in, first out, and the key bubbles before the probe
does, so when the probe reaches the app the key has done all it will do. If the screen on top
changed meanwhile, a second probe goes through the new screen's queue, after its mount and resume,
before the next key is let go.

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
from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App
    from textual.message_pump import MessagePump
    from textual.screen import Screen
    from textual.timer import Timer

log = logging.getLogger(__name__)

# Seconds held keys wait for a probe that never came back (its widget was removed with the probe
# in its queue) or a screen that was expected and never came; a safety net, not the normal path.
LOST_PROBE = 2.0

HeldEvent = events.Key | events.Paste


class Delivered(Message, bubble=True):
    """Follows a key through the widgets: at the app, that key has been handled."""

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self.screen = screen  # the screen on top when the probe was sent


class KeyGate:
    """The app's keys, let through one at a time (see the module's docstring)."""

    def __init__(self, app: App[object], deliver: Callable[[HeldEvent], Awaitable[None]]) -> None:
        self.app = app
        self._deliver = deliver  # hands an event on as Textual does (to the focused widget)
        self._held: deque[HeldEvent] = deque()
        self._waiting: Delivered | None = None  # the probe the next key waits for
        self._lost_timer: Timer | None = None
        self._expecting = False  # a worker a key started is about to show a screen
        self.handed_on = 0  # keys and pastes handed on so far (tests wait for theirs)

    def expect_screen(self) -> None:
        """The key being handled started a worker that will show a screen: hold the next keys
        until it does (`screen_pushed`) or ends (`expectation_over`)."""
        self._expecting = True

    def screen_pushed(self) -> None:
        if self._expecting:
            self._expecting = False
            self._probe(self.app.screen)

    def screen_ready(self) -> None:
        """The screen expected has come and takes keys (or will not come: its worker ended)."""
        if self._expecting:
            self._expecting = False
            self._probe(self.app.screen)

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

    def sent(self) -> None:
        """A key or paste was just handed on: the next waits until it has been handled."""
        app = self.app
        self.handed_on += 1
        self._probe(app.focused or app.screen)

    async def delivered(self, probe: Delivered) -> None:
        """A probe reached the app: let the next held key go, once the screen on top is settled."""
        if probe is not self._waiting:
            return  # a probe given up on (see _probe_lost)
        self._waiting = None
        if self._lost_timer is not None:
            self._lost_timer.reset()
        if probe.screen is not self.app.screen:  # a screen opened or closed: wait for it too
            self._probe(self.app.screen)
            return
        if not getattr(self.app.screen, "takes_keys", True):
            self._expecting = True  # until the screen calls screen_ready
            return
        if not self._expecting:
            await self._release()

    def _probe(self, target: MessagePump) -> None:
        probe = Delivered(self.app.screen)
        probe.set_sender(self.app)
        self._waiting = probe
        if not target.post_message(probe):  # closing: nothing more will happen there
            self._waiting = None

    async def _release(self) -> None:
        """Hand on held events until one of them has to be waited for."""
        while self._held and self._waiting is None and not self._expecting:
            await self._deliver(self._held.popleft())
            self.sent()
        if not self._held and self._lost_timer is not None:
            self._lost_timer.stop()
            self._lost_timer = None

    async def _probe_lost(self) -> None:
        self._lost_timer = None
        if (self._waiting is not None or self._expecting) and self._held:
            log.warning("a key's probe or screen never came: letting %d held key(s) go", len(self._held))
            self._waiting, self._expecting = None, False
            await self._release()
