"""A pipe calling another model (`open_webui.utils.chat`), seen from the caller's side.

The called model runs as an invocation of its own. Its events and event calls belong
to the calling reply, so they are relayed there; what the calling pipe gets is only
what Open WebUI would give it: the response body's items, or the response, and
NestedCallFailed where the called pipe raised.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from tuichat.compat import NestedCallFailed
from tuichat.runtime.invocation.invoke import Relay
from tuichat.runtime.invocation.request import relay_in
from tuichat.runtime.invocation.trace import CallStep, EventStep, RaisedStep, ResponseStep, SseStep, Step


def relay_of(request: object) -> Relay | None:
    """The relay to the call `request` was given to, if it has one (it has chat ids)."""
    relay = relay_in(request)
    return relay if isinstance(relay, Relay) else None


async def wire_items(steps: AsyncIterable[Step], relay: Relay | None) -> AsyncIterator[str | bytes]:
    """The streaming response body's items, as the called pipe produced them."""
    async for step in _relayed(steps, relay):
        if isinstance(step, SseStep):
            yield step.text.encode() if step.is_bytes else step.text
        elif isinstance(step, RaisedStep):
            raise NestedCallFailed(step.message)


async def response_of(steps: AsyncIterable[Step], relay: Relay | None) -> Any:
    """The non-streaming response; None if the called pipe streamed instead."""
    result: Any = None
    async for step in _relayed(steps, relay):
        if isinstance(step, ResponseStep):
            result = step.data
        elif isinstance(step, RaisedStep):
            raise NestedCallFailed(step.message)
    return result


async def _relayed(steps: AsyncIterable[Step], relay: Relay | None) -> AsyncIterator[Step]:
    """The wire steps; events and event calls go to the calling reply instead."""
    async for step in steps:
        if isinstance(step, (EventStep, CallStep)):
            if relay is not None:
                relay.forward(step)
            continue
        yield step
