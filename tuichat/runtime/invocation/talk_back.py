"""What a pipe gets to talk back with: `__event_emitter__` and `__event_call__`, as Open WebUI
builds them for a call (spec §8, §9)."""

from __future__ import annotations

import asyncio
import copy
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from tuichat.runtime.invocation.channel import Channel
from tuichat.runtime.invocation.trace import CallStep, EventStep, Step
from tuichat.runtime.reply.masking import masked_answer, masked_question

EventCallHandler = Callable[[dict[str, Any]], Awaitable[Any]]

NO_HANDLER_ERROR = "No one is there to answer: tuichat is running without an interactive front end."
# Events go only to the other views of a chat, never back to the reply that emitted them.
OTHER_VIEWS_ONLY = frozenset({"chat:messages"})
# Chat ids Open WebUI does not save (the emitter writes nothing for them).
UNSAVED_CHAT_PREFIXES = ("temporary:", "local:", "channel:")


def make_emitter(
    channel: Channel[Step],
    elapsed: Callable[[], float],
    loop_thread: int | None,
    metadata: dict[str, Any],
    store_files: Callable[[dict[str, Any]], None],
    *,
    source: dict[str, Any] | None = None,
    make_room: Callable[[], Awaitable[None]] | None = None,
) -> Callable[[Any], Awaitable[None]]:
    """`source` tags each event with the filter hook that emits it (the chat path).
    `make_room` is for an emitter awaited by the channel's own consumer (a stream or outlet
    hook): waiting for room there would wait for itself, so a full channel is emptied by it."""
    internal = bool(metadata.get("internal"))
    saved = not str(metadata.get("chat_id") or "").startswith(UNSAVED_CHAT_PREFIXES)

    async def __event_emitter__(event: Any) -> None:
        kind = event.get("type") if isinstance(event, dict) else None
        if internal and kind == "notification":
            return
        if kind in OTHER_VIEWS_ONLY or channel.closed:
            return  # for the chat's other views (tuichat has none); or emitted too late
        step = EventStep(snapshot(event), elapsed(), source)
        if kind == "files" and saved:
            store_files(event)
        if threading.get_ident() == loop_thread:
            if make_room is not None and channel.full:
                await make_room()
            await channel.put_async(step)
        else:  # awaited from a sync pipe's own event loop in its worker thread
            channel.put(step)

    return __event_emitter__


def make_event_call(
    channel: Channel[Step],
    elapsed: Callable[[], float],
    handler: EventCallHandler | None,
    loop: asyncio.AbstractEventLoop,
    loop_thread: int | None,
    source: dict[str, Any] | None = None,
) -> Callable[[Any], Awaitable[Any]]:
    async def __event_call__(event: Any) -> Any:
        if handler is None:
            reply: Any = {"error": NO_HANDLER_ERROR}
        else:
            try:
                if threading.get_ident() == loop_thread:
                    reply = await handler(event)
                else:
                    future = asyncio.run_coroutine_threadsafe(handler(event), loop)
                    reply = await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reply = {"error": f"the event call failed: {exc}"}
        # The pipe gets the answer; what is kept of the call never holds a password.
        kept = snapshot(event)
        channel.put(CallStep(masked_question(kept), masked_answer(kept, snapshot(reply)), elapsed(), source))
        return reply

    return __event_call__


def snapshot(value: Any) -> Any:
    """Open WebUI serialises an event when it is emitted; a pipe that later mutates
    and re-emits the same dict must not rewrite what was already sent."""
    try:
        return copy.deepcopy(value)
    except Exception:
        return value
