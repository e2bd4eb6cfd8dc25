"""After the pipe: its batches through the stream stage (each chunk through the stream
filters, `stream.StreamStage`), then the outlets once the output has ended, whose change
becomes the final content. A part of `ChatInvocation` (`run.py`), kept here so each
module holds one stage of the turn."""

from __future__ import annotations

import asyncio
import copy
import time
import traceback
from collections.abc import AsyncIterator, Callable
from typing import Any

from tuichat.runtime.chatpath.changes import body_changes, content_change, snapshot
from tuichat.runtime.chatpath.filters import Filter
from tuichat.runtime.chatpath.hooks import call_hook
from tuichat.runtime.chatpath.outlet import final_content, outlet_body, response_text
from tuichat.runtime.chatpath.stream import StreamStage, delta_text, parse_chunk
from tuichat.runtime.errors import pipe_traceback
from tuichat.runtime.invocation.channel import Channel, ChannelClosed
from tuichat.runtime.invocation.codec import DONE_LINE
from tuichat.runtime.invocation.invoke import Invocation
from tuichat.runtime.invocation.trace import EventStep, LogStep, RaisedStep, ResponseStep, SseStep, Step
from tuichat.runtime.reply.builder import OUTLET_EVENT


class _Output:
    """What the outlets need to know about the pipe's output, gathered as it streams."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.failed_early = False  # the pipe raised before replying (streamed): outlets still run
        self.raised = False  # it raised mid-stream: no outlets, no partial text
        self.response: Any = None
        self.done = False


class OutputStages:
    """The stream stage and the outlets of a `ChatInvocation` (which sets these)."""

    filters: list[Filter]
    stream: bool
    user: dict[str, Any]
    metadata: dict[str, Any]
    model_id: str
    outlet_messages: list[dict[str, Any]]
    cancelled: bool
    _pipe: Invocation | None
    _channel: Channel[Step] | None
    _task: asyncio.Task[None] | None
    _sent_body: dict[str, Any]
    _passthrough: bool
    _pipe_offset: float
    _out: list[Step]
    _streaming: StreamStage | None
    _running: tuple[str, str, float] | None
    elapsed: Callable[[], float]
    take_queued: Callable[[], list[Step]]
    _offered: Callable[[dict[str, Any], dict[str, Any] | None, Filter, str], dict[str, Any]]
    _report: Callable[[dict[str, Any]], None]
    _ran: Callable[[Filter, str, float, list[str]], None]
    _put: Callable[[Step], None]

    async def _through_pipe(self) -> AsyncIterator[list[Step]]:
        """The pipe's batches, chunks through the stream filters. The outlets run as soon as
        the output has ended (`[DONE]`, the response, the error), not when the late events a
        pipe's own tasks may send for a while after have stopped."""
        pipe, channel = self._pipe, self._channel
        assert pipe is not None and channel is not None
        streamers = [f for f in self.filters if f.has("stream")] if self.stream else []
        user = copy.deepcopy(self.user)  # one `__user__` for the stage, as in Open WebUI
        offered = {f.id: {**self._offered(user, self._sent_body, f, "stream"), "__body__": self._sent_body} for f in streamers}
        stage = self._streaming = StreamStage(streamers, offered, self._report) if streamers else None
        output = _Output()
        # Without stream filters or outlets the chunks pass untouched (no parsing): the
        # bare call's cost (bench/stream_throughput.py shows both).
        reading = bool(streamers) or any(f.has("outlet") for f in self.filters)
        self._passthrough = not reading
        offset = self._pipe_offset = self.elapsed()  # the pipe's steps are timed from its own start
        async for batch in pipe.batches():
            out = self._out = []
            ended = False
            for step in batch:
                step.at += offset
                if isinstance(step, SseStep):
                    done_line = step.text.startswith(DONE_LINE)
                    ended = ended or done_line
                    chunk = parse_chunk(step.text) if reading and not done_line else None
                    if chunk is not None:
                        if "error" in chunk and not chunk.get("choices"):
                            output.failed_early = ended = True
                        elif stage is not None:
                            filtered = await stage.line(chunk, step.text)
                            out += channel.take_queued()  # what the filters emitted comes first
                            if filtered is None:
                                continue
                            chunk, step.text = filtered
                        output.parts.append(delta_text(chunk))
                elif isinstance(step, RaisedStep):
                    output.raised = ended = True
                elif isinstance(step, ResponseStep):
                    output.response, ended = step.data, True
                out.append(step)
            handed = channel.take_queued() + out
            out.clear()  # handed out: no longer pending (`take_queued`)
            yield handed
            if ended and not output.done:
                await self._end_output(output)
                yield self.take_queued()
        if not output.done and not (pipe.cancelled or self.cancelled):
            await self._end_output(output)  # a pass-through stream: no [DONE]

    async def _end_output(self, output: _Output) -> None:
        """The outlets, in a task of their own (so `cancel` stops one that hangs)."""
        self._task = asyncio.get_running_loop().create_task(self._output_ended(output))
        try:
            await self._task
        except (ChannelClosed, asyncio.CancelledError):
            pass
        except Exception as exc:  # the app must stay up, whatever a filter does
            self._put(RaisedStep(type(exc).__name__, str(exc), pipe_traceback(exc), self.elapsed()))

    async def _output_ended(self, output: _Output) -> None:
        output.done = True
        for record in self._streaming.records() if self._streaming is not None else []:
            self._put(LogStep(record, self.elapsed()))
        if output.raised:  # mid-stream: Open WebUI keeps none of the partial text
            self._put(EventStep({"type": "replace", "data": {"content": ""}}, self.elapsed()))
            return
        content = (
            ("" if output.failed_early else "".join(output.parts).strip()) if self.stream else response_text(output.response)
        )
        if content is not None:
            await self._outlets(content)

    async def _outlets(self, content: str) -> None:
        """Outlets in order on the stored messages; the first that raises ends the stage
        (swallowed, as in Open WebUI: the user sees it in the activity)."""
        outlets = [f for f in self.filters if f.has("outlet")]
        if not outlets:
            return
        body: Any = outlet_body(self.metadata, self.model_id, self.outlet_messages, content)
        user = copy.deepcopy(self.user)
        message_id = self.metadata.get("message_id")
        changed = False
        for f in outlets:
            before, reply_before = snapshot(body), final_content(body, message_id)
            offered = self._offered(user, None, f, "outlet")
            began = time.monotonic()
            self._running = (f.id, "outlet", began)
            try:
                body = await call_hook(f, "outlet", body, offered)
                changed = True
            except (ChannelClosed, asyncio.CancelledError):
                raise
            except Exception as exc:
                self._put(LogStep({"filter": f.id, "hook": "outlet", "error": f"filter '{f.id}' outlet failed: "
                                   f"{type(exc).__name__}: {exc}; the later outlets did not run",
                                   "traceback": traceback.format_exc()}, self.elapsed()))  # fmt: skip
                break
            finally:
                self._running = None
            self._ran(f, "outlet", began, _outlet_changes(before, body, reply_before, message_id))
        if not changed:
            return
        final = final_content(body, message_id)
        if final is not None and final != content:
            self._put(EventStep({"type": OUTLET_EVENT, "data": {"content": final}}, self.elapsed()))


def _outlet_changes(before: Any, after: Any, reply_before: str | None, message_id: Any) -> list[str]:
    """An outlet's changes: the reply's text first, then the other messages and keys."""
    if not isinstance(after, dict):
        return [f"returned {type(after).__name__} instead of the body"]
    rewrote = content_change(reply_before, final_content(after, message_id))
    others = [c for c in body_changes(before, after) if not (rewrote and c.startswith("edited the assistant message"))]
    return ([rewrote] if rewrote else []) + others
