"""What a pipe returns, written to its call's channel as steps, byte for byte as Open WebUI
0.12.4 puts it on the wire (spec §7.1-7.3): a streamed call's SSE lines (str, generators, a
dict, a pipe's own StreamingResponse) and a non-streamed call's one response.

`Invocation` (invoke.py) owns the call: the channel, its clock, the pipe's arguments; this
module only calls the pipe and turns its result into `SseStep`s and `ResponseStep`s.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from typing import Any

from pydantic import BaseModel

from tuichat.runtime.errors import EscapedBaseException, pipe_traceback
from tuichat.runtime.invocation import codec
from tuichat.runtime.invocation.channel import Channel, ChannelClosed
from tuichat.runtime.invocation.trace import ResponseStep, SseStep, Step

# A sync generator runs on the loop between its items; the loop (and so the step sender)
# gets a turn after the first item, after an item that took a while to come (a generator
# waiting on a network or a sleep: its item must not wait for the next one), and at least
# this often, so a fast generator's items still travel in batches.
SYNC_YIELD_INTERVAL = 0.002
SLOW_ITEM = 0.0005


def is_streaming_response(value: object) -> bool:
    """Starlette/FastAPI `StreamingResponse`, recognised without importing either."""
    return hasattr(value, "body_iterator") and type(value).__name__.endswith("StreamingResponse")


class PipeOutput:
    """Calls the pipe and writes what it returns to `channel`, each step stamped with `elapsed()`."""

    def __init__(self, channel: Channel[Step], model: str, elapsed: Callable[[], float]) -> None:
        self._channel = channel
        self.model = model
        self.elapsed = elapsed

    async def _execute(self, pipe: Callable[..., Any], params: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(pipe):
            return await pipe(**params)
        return pipe(**params)  # on the loop, as Open WebUI runs a sync pipe

    async def write_stream(self, pipe: Callable[..., Any], params: dict[str, Any]) -> None:
        model = self.model
        try:
            result = await self._execute(pipe, params)
            if is_streaming_response(result):
                await self._pass_through(result.body_iterator)
                return
            if isinstance(result, dict):
                self._sse(f"data: {codec.dumps(result)}\n\n")
                return
        except (ChannelClosed, asyncio.CancelledError, EscapedBaseException):
            raise  # a SystemExit is no Exception to Open WebUI either: it escapes
        except Exception as exc:
            self._sse(codec.error_line(str(exc)), traceback=pipe_traceback(exc))
            return
        if isinstance(result, str):
            self._sse(codec.chunk_line(model, result))
        elif isinstance(result, Iterator):
            await self._pump_sync(result)
        elif isinstance(result, AsyncGenerator):
            await self._pump_async(result)
        else:
            _discard(result)
        self._sse(codec.chunk_line(model, None))
        self._sse(codec.DONE_LINE)

    async def write_completion(self, pipe: Callable[..., Any], params: dict[str, Any]) -> None:
        try:
            result = await self._execute(pipe, params)
        except (ChannelClosed, asyncio.CancelledError, EscapedBaseException):
            raise  # a SystemExit is no Exception to Open WebUI either: it escapes
        except Exception as exc:
            self._respond({"error": {"detail": str(exc)}}, traceback=pipe_traceback(exc))
            return
        if is_streaming_response(result):
            await self._pass_through(result.body_iterator)
        elif isinstance(result, dict):
            self._respond(result)
        elif isinstance(result, BaseModel):
            self._respond(result.model_dump())
        else:
            self._respond(codec.completion(self.model, await self._message_content(result)))

    async def _message_content(self, result: Any) -> str | None:
        """Open WebUI's `get_message_content`: generators joined with str(), others None."""
        if isinstance(result, str):
            return result
        if isinstance(result, Generator):
            return "".join(map(str, result))
        if isinstance(result, AsyncGenerator):
            return "".join([str(item) async for item in result])
        _discard(result)
        return None

    async def _pump_sync(self, iterator: Iterator[Any]) -> None:
        channel, model, elapsed = self._channel, self.model, self.elapsed
        clock = time.monotonic
        last_turn = before = clock()
        first = True
        try:
            for line in iterator:
                now = clock()
                await channel.put_async(SseStep(codec.process_line(model, line), at=elapsed()))
                if first or now - before >= SLOW_ITEM or now - last_turn >= SYNC_YIELD_INTERVAL:
                    first = False
                    await asyncio.sleep(0)
                    last_turn = clock()
                before = clock()
        except ChannelClosed:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    async def _pump_async(self, agen: AsyncGenerator[Any, Any]) -> None:
        channel, model, elapsed = self._channel, self.model, self.elapsed
        async for line in agen:
            await channel.put_async(SseStep(codec.process_line(model, line), at=elapsed()))

    async def _pass_through(self, body_iterator: Any) -> None:
        """A pipe's own StreamingResponse: every item as is, nothing added."""
        if hasattr(body_iterator, "__aiter__"):
            async for item in body_iterator:
                await self._channel.put_async(self._raw_step(item))
        else:
            for item in body_iterator:
                await self._channel.put_async(self._raw_step(item))
                await asyncio.sleep(0)  # a sync body iterator runs on the loop: let the sender in

    def _raw_step(self, item: Any) -> SseStep:
        if isinstance(item, (bytes, bytearray, memoryview)):
            return SseStep(bytes(item).decode("utf-8", "replace"), is_bytes=True, at=self.elapsed())
        return SseStep(item if isinstance(item, str) else str(item), at=self.elapsed())

    def _sse(self, text: str, traceback: str | None = None) -> None:
        self._channel.put(SseStep(text, at=self.elapsed(), traceback=traceback))

    def _respond(self, data: Any, traceback: str | None = None) -> None:
        self._channel.put(ResponseStep(data, at=self.elapsed(), traceback=traceback))


def _discard(result: Any) -> None:
    # A coroutine from a sync pipe is never awaited in Open WebUI either; closing it
    # just spares the "never awaited" warning.
    if inspect.iscoroutine(result):
        result.close()
