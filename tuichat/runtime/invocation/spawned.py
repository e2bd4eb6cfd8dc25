"""The tasks a pipe starts, so its late events can be waited for.

Open WebUI's event emitter outlives the request: a task the pipe started can still emit
once `pipe()` has returned (a countdown, a late status). To keep the call's channel open
just as long as such tasks run, every task created from a pipe's context is recorded by
the call that ran the pipe: `track_tasks` puts a task factory on the loop (once, over any
factory it had) that hands each new task to the `SpawnedTasks` in the creating context.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import weakref
from collections.abc import Callable
from typing import Any

_current: contextvars.ContextVar[SpawnedTasks | None] = contextvars.ContextVar("tuichat_spawned_tasks", default=None)


class SpawnedTasks:
    """The tasks started from one pipe call's context (weakly held: done ones just go)."""

    def __init__(self) -> None:
        self._tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        self._own: asyncio.Task[Any] | None = None

    def collect_here(self, own: asyncio.Task[Any] | None) -> None:
        """Record tasks started from the current context on (the call's own task excepted)."""
        self._own = own
        _current.set(self)

    def adopt(self, task: asyncio.Task[Any]) -> None:
        if task is not self._own:
            self._tasks.add(task)

    async def wait(self, window: float, stop: Callable[[], bool]) -> None:
        """Until every recorded task is done, `stop()` is true, or `window` seconds pass."""
        deadline = time.monotonic() + window
        while not stop():
            pending = [task for task in self._tasks if not task.done()]
            remaining = deadline - time.monotonic()
            if not pending or remaining <= 0:
                return
            await asyncio.wait(pending, timeout=remaining)


def track_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Install the recording task factory on `loop` (see the module docstring)."""
    previous = loop.get_task_factory()
    if getattr(previous, "tuichat_tracks_tasks", False):
        return

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        if previous is not None:
            task = previous(loop, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=loop, **kwargs)
        spawned = _current.get()
        if spawned is not None:
            spawned.adopt(task)
        return task

    factory.tuichat_tracks_tasks = True  # type: ignore[attr-defined]
    loop.set_task_factory(factory)
