"""The app's side of one pipe call in the host process: `RemoteInvocation`.

It is iterated and cancelled exactly like the in-process `Invocation`, so turns, titles,
the CLI and the TUI do not know where the pipe runs. Stopping: the host is asked to
cancel the call; if the call has not ended `STOP_GRACE` seconds later (a sync pipe
blocking the host's loop cannot even read the request), or on a second cancel, the host
is killed and starts afresh on the next request. If the host dies mid-call, the call ends
with what the host printed last and an error saying how it died.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tuichat.runtime.hostproc.rpc import ConnectionLost
from tuichat.runtime.hostproc.wire import decode_steps
from tuichat.runtime.invocation.trace import LogStep, RaisedStep, Step

if TYPE_CHECKING:
    from tuichat.runtime.hostproc.process import HostProcess
    from tuichat.store.functions import FunctionRow

EventCallHandler = Callable[[dict[str, Any]], Awaitable[Any]]
STOP_GRACE = 2.0  # seconds a cancelled call has to end before its host is killed
STOP_SLACK = 1.5  # and then for it to print its stack and die (`HostProcess.stop_stuck`)
# Bytes of frames received and not yet consumed above which the connection stops reading
# (see rpc.Connection.hold): a flood waits in the pipe, not in the app's memory.
MAX_QUEUED = 4 << 20
DEATH_ERROR = "PipeProcessDied"


class RemoteInvocation:
    """Iterate it for the steps; `cancel()` stops the pipe and ends the iteration."""

    def __init__(
        self,
        start: Callable[[], Awaitable[HostProcess]],
        row: FunctionRow,
        model: str,
        body: dict[str, Any],
        *,
        metadata: dict[str, Any],
        user: dict[str, Any],
        user_valves: dict[str, Any],
        event_call: EventCallHandler | None,
    ) -> None:
        self.model = model
        self.body = body
        self.metadata = metadata
        self.stream = bool(body.get("stream"))
        self.cancelled = False
        # The call record and captured output are the reply's side channel, not the wire:
        # a turn asks for them; a bare iteration (a trace, a nested call) gets the wire.
        self.with_logs = False
        self.chat: dict[str, Any] | None = None  # set: the chat path (`tuichat.runtime.chatpath`)
        self._start_host = start
        self._row = row
        self._user = user
        self._user_valves = user_valves
        self._event_call = event_call
        self._batches: collections.deque[tuple[list[Any], int]] = collections.deque()
        self._queued = 0  # bytes of the frames in _batches
        self._consumed = False  # the iteration is over: frames still coming are dropped
        self._wake = asyncio.Event()
        self._host: HostProcess | None = None
        self._call_id: int | None = None
        self._done: asyncio.Future[Any] | None = None
        self._started = 0.0
        self._kill_timer: asyncio.TimerHandle | None = None
        self._stop_answer: asyncio.Future[Any] | None = None  # the host's answer to a cancel

    @property
    def event_call_handler(self) -> EventCallHandler | None:
        return self._event_call

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def __aiter__(self) -> AsyncIterator[Step]:
        return self._steps()

    async def _steps(self) -> AsyncIterator[Step]:
        if self._done is not None:
            raise RuntimeError("an Invocation can be iterated only once")
        self._started = time.monotonic()
        try:
            done = await self._send()
        except ConnectionLost:
            async for step in self._died():
                yield step
            return
        if self.cancelled:
            # Stopped while the host was starting (after a crash, that takes seconds): the call
            # went out all the same, with nobody to stop it, and a pipe that blocked then held
            # the host, and every later message, for good (the soak saw it). Stop it now.
            self.cancelled = False
            self.cancel()
        try:
            while True:
                # What arrived before a stop is the user's (a reply's last words, queued while
                # the front end drew the one before): it is shown; what comes after is dropped.
                while self._batches:
                    batch, size = self._batches.popleft()
                    self._took(size)
                    for step in decode_steps(batch):
                        if self.with_logs or not isinstance(step, LogStep):
                            yield step
                if done.done() or self.cancelled:
                    break
                await self._wake.wait()
                self._wake.clear()
            if self.cancelled:
                if self.with_logs and self.chat is not None:
                    async for step in self._where_stopped():
                        yield step
                return
            error = None if done.cancelled() else done.exception()
            if isinstance(error, ConnectionLost):
                async for step in self._died():
                    yield step
            elif error is not None:  # the host refused the call (it never ran)
                yield RaisedStep(type(error).__name__, str(error), "", self.elapsed())
        finally:
            self._consumed = True
            self._batches.clear()
            self._took(self._queued)
            # Left early: ask the host to stop, unless that was asked already (a second
            # cancel is the user's "stop now", which kills the host).
            if not done.done() and not self.cancelled:
                self.cancel()

    async def _send(self) -> asyncio.Future[Any]:
        host = self._host = await self._start_host()
        connection = host.connection
        call_id, done = connection.start_request(
            "invoke", row=dataclasses.asdict(self._row), model=self.model, body=self.body, metadata=self.metadata,
            user=self._user, user_valves=self._user_valves, event_call=self._event_call is not None,
            chat=self.chat,
        )  # fmt: skip
        self._call_id, self._done = call_id, done
        connection.sinks[call_id] = self._feed
        host.calls[call_id] = self
        done.add_done_callback(self._ended)
        await connection.drain()
        return done

    def _feed(self, batch: list[Any], size: int) -> None:
        if self._consumed or self.cancelled:  # sent after the stop: nobody asked for them
            return
        self._batches.append((batch, size))
        self._queued += size
        if self._queued > MAX_QUEUED and self._host is not None:
            self._host.connection.hold(self)
        self._wake.set()

    def _took(self, size: int) -> None:
        """`size` bytes of frames were consumed: the connection reads again below the bound."""
        self._queued -= size
        if self._queued <= MAX_QUEUED and self._host is not None:
            self._host.connection.release(self)

    def _ended(self, done: asyncio.Future[Any]) -> None:
        if not done.cancelled():
            done.exception()  # read here: an iteration that stopped early never looks
        self._wake.set()
        if self._kill_timer is not None:
            self._kill_timer.cancel()
        host = self._host
        if host is not None and self._call_id is not None and self.cancelled:
            host.connection.release(self)  # nobody consumes what was queued any more
        if host is not None and self._call_id is not None:
            host.connection.sinks.pop(self._call_id, None)
            host.calls.pop(self._call_id, None)

    async def _died(self) -> AsyncIterator[Step]:
        """The host died under this call: its last words, then how it died."""
        host = self._host
        if host is None:
            yield RaisedStep(DEATH_ERROR, "the pipe process could not be started", "", self.elapsed())
            return
        why = await host.death()
        where = host.stuck_at()
        why += f" (it was at {where})" if where else ""
        now = time.time()
        for line in list(host.tail) if self.with_logs else []:
            yield LogStep({"time": now, "stream": "host", "text": line}, self.elapsed())
        yield RaisedStep(DEATH_ERROR, why, "", self.elapsed())

    async def stop_report(self) -> list[Step]:
        """After a stop, what `_where_stopped` says (for a front end whose iteration the stop
        ended: `tuichat run` on ctrl+c)."""
        return [step async for step in self._where_stopped()] if self.cancelled else []

    async def _where_stopped(self) -> AsyncIterator[Step]:
        """On the chat path, the filter hook a stop interrupted: the host names it, or, when
        a hook blocked its loop until it was killed, the stack it printed first does."""
        answer, host = self._stop_answer, self._host
        if answer is None or host is None:
            return
        try:
            running = await asyncio.wait_for(asyncio.shield(answer), STOP_GRACE + STOP_SLACK)
        except ConnectionLost:  # killed: stuck past STOP_GRACE, or stopped twice
            why = await host.death()
            stuck = host.stuck_hook()
            if stuck is not None:
                where = host.stuck_at()
                text = f"filter '{stuck[0]}' {stuck[1]} never returned; {why}" + (f" (it was at {where})" if where else "")
                yield LogStep({"filter": stuck[0], "hook": stuck[1], "error": text}, self.elapsed())
            return
        except TimeoutError:
            return
        if isinstance(running, dict) and running.get("filter"):
            fid, hook = running["filter"], running.get("hook", "")
            text = f"stopped while filter '{fid}' {hook} was running ({float(running.get('seconds') or 0):.1f} s)"
            yield LogStep({"filter": fid, "hook": hook, "outcome": text}, self.elapsed())
        elif isinstance(running, dict) and running.get("tool"):
            tid, name = running["tool"], running.get("function", "")
            text = f"stopped while tool '{tid}' {name} was running ({float(running.get('seconds') or 0):.1f} s)"
            yield LogStep({"tool": tid, "function": name, "outcome": text}, self.elapsed())

    async def answer_event_call(self, event: dict[str, Any]) -> Any:
        if self._event_call is None:
            return None
        return await self._event_call(event)

    def cancel(self) -> None:
        """Ask the host to cancel; kill it if the call has not ended in time (or on a second cancel)."""
        again = self.cancelled
        self.cancelled = True
        self._wake.set()
        host, done = self._host, self._done
        if host is None or done is None or done.done():
            return
        if again:
            host.kill("the pipe was stopped twice")
            return
        try:  # answered with the filter hook it stopped (the chat path), if any
            _, self._stop_answer = host.connection.start_request("cancel", call=self._call_id)
        except ConnectionLost:
            return
        self._stop_answer.add_done_callback(_retrieved)
        loop = asyncio.get_running_loop()
        why = f"the pipe did not stop within {STOP_GRACE:g} s of being asked"
        self._kill_timer = loop.call_later(STOP_GRACE, lambda: asyncio.ensure_future(host.stop_stuck(why)))


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A cancel's answer nobody awaits (a bare call) must not warn when the host dies."""
    if not future.cancelled():
        future.exception()
