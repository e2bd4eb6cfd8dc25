"""Running pipe code off the event loop.

Sync pipe code runs in daemon threads rather than the default executor: a pipe
that never returns must not keep the process from exiting, nor use up a shared
pool. Results come back to the loop as awaitables.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

from tuichat.runtime.errors import EscapedBaseException

T = TypeVar("T")


def run_in_thread(func: Callable[..., T], *args: object) -> asyncio.Future[T]:
    """Start `func(*args)` in a new daemon thread; the returned future resolves on the loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def deliver(setter: Callable[[object], None], value: object) -> None:
        if not future.done():
            setter(value)

    def worker() -> None:
        try:
            result = context.run(func, *args)
        except Exception as exc:
            _call_soon(loop, deliver, future.set_exception, exc)
        except BaseException as exc:
            # SystemExit or KeyboardInterrupt from pipe code: an asyncio task that sees
            # one re-raises it out of the event loop and ends the app, so wrap it.
            _call_soon(loop, deliver, future.set_exception, EscapedBaseException(exc))
        else:
            _call_soon(loop, deliver, future.set_result, result)

    threading.Thread(target=worker, name=f"tuichat-pipe-{getattr(func, '__name__', 'call')}", daemon=True).start()
    return future


def _call_soon(loop: asyncio.AbstractEventLoop, *args: object) -> None:
    try:
        loop.call_soon_threadsafe(*args)  # type: ignore[arg-type]
    except RuntimeError:
        pass  # the loop closed while an abandoned pipe thread was still running
