"""An ordered hand-over of steps from a pipe to whoever consumes the invocation.

The pipe side may run on the event loop (async pipes, the event emitter) or in a
worker thread (sync generators); either way steps come out in the order they went
in. Items are drained in batches so a fast pipe costs one loop wake-up per batch,
not per chunk, and a bound on queued items pushes back on a pipe that floods.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class ChannelClosed(Exception):
    """Raised to a worker thread that puts into a channel nobody reads any more."""


class Channel(Generic[T]):
    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int = 4096) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._items: deque[T] = deque()
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None
        self._wake_pending = False
        self._closed = False  # the producer is done: nothing more will come
        self._abandoned = False  # the consumer is gone: producers should stop
        self._has_room = threading.Event()
        self._has_room.set()
        self._loop_room: asyncio.Event | None = None

    @property
    def abandoned(self) -> bool:
        return self._abandoned

    @property
    def full(self) -> bool:
        """As many items wait as the bound allows: `put_async` would wait for room."""
        return len(self._items) >= self._limit

    @property
    def closed(self) -> bool:
        """The producer is done: what is put now may never be read."""
        return self._closed

    # -- producer side -------------------------------------------------------------
    def put(self, item: T) -> None:
        """Queue an item from any thread, without blocking."""
        if self._abandoned:
            return
        self._items.append(item)
        if threading.get_ident() == self._loop_thread:
            self._wake()
        elif not self._wake_pending:
            self._wake_pending = True
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:
                self._abandoned = True

    def put_blocking(self, item: T) -> None:
        """Queue an item from a worker thread, waiting while the queue is full."""
        while len(self._items) >= self._limit and not self._abandoned:
            self._has_room.clear()
            if len(self._items) >= self._limit:
                self._has_room.wait(0.1)
        if self._abandoned:
            raise ChannelClosed
        self.put(item)

    async def put_async(self, item: T) -> None:
        """Queue an item from a coroutine on the loop, yielding while the queue is full."""
        if len(self._items) >= self._limit and not self._abandoned:
            self._loop_room = self._loop_room or asyncio.Event()
            self._loop_room.clear()
            await self._loop_room.wait()
        if self._abandoned:
            raise ChannelClosed
        self.put(item)

    def close(self) -> None:
        """The producer is finished; wakes the consumer from any thread."""
        self._closed = True
        if threading.get_ident() == self._loop_thread:
            self._wake()
        else:
            try:
                self._loop.call_soon_threadsafe(self._wake)
            except RuntimeError:
                pass

    # -- consumer side -------------------------------------------------------------
    def abandon(self) -> None:
        """The consumer stops reading: producers stop and queued items are dropped."""
        self._abandoned = True
        self._items.clear()
        self._has_room.set()
        if self._loop_room is not None:
            self._loop_room.set()

    def take_queued(self) -> list[T]:
        """Everything queued now, without waiting (to send it ahead of something else)."""
        batch = list(self._items)
        self._items.clear()
        self._has_room.set()
        if self._loop_room is not None:
            self._loop_room.set()
        return batch

    async def get_batch(self) -> list[T]:
        """Everything queued so far, waiting if nothing is; an empty list means closed."""
        while not self._items:
            if self._closed:
                return []
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        items = self._items
        if len(items) <= self._limit:
            batch = list(items)
            items.clear()
        else:  # steps put from the loop side (events, the final lines) may overshoot
            batch = [items.popleft() for _ in range(self._limit)]
        self._has_room.set()
        if self._loop_room is not None:
            self._loop_room.set()
        return batch

    def _wake(self) -> None:
        self._wake_pending = False
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
