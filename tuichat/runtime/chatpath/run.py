"""One chat turn on Open WebUI's chat path, run in the host process: inlets, request hooks,
the pipe (an `Invocation`), the stream stage on each chunk, then the outlets, whose change
becomes the final content. Quacks like `Invocation` for the host server (`batches`,
`cancel`, `relay`, ...), so the app's `Turn` drives it like a bare call.

Every hook that ran is listed in the reply's activity (`{"filter", "hook", "ms",
"changes"}`: what it changed, `changes.py`; a stream filter once for the whole stream,
with its tally), with the error and traceback when it failed; events a hook emits go into
the reply in order, as the pipe's do, tagged with the filter and hook (`source`). The
error rules are Open WebUI's (the conformance README's table).

Stopping: `running_hook` names the hook being awaited (the host tells the app, which says
so in the reply). A stream or outlet hook is awaited by the consumer of `batches` itself,
so a flood of its events cannot wait for that consumer: it is sent on (`spill`, set by the
host server), which waits for the app as a pipe's own flood does.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tuichat.runtime.chatpath.changes import body_changes, snapshot
from tuichat.runtime.chatpath.filters import Filter, select
from tuichat.runtime.chatpath.hooks import call_hook
from tuichat.runtime.chatpath.legacy_tools import emit_sources, is_legacy, run_legacy
from tuichat.runtime.chatpath.output import OutputStages
from tuichat.runtime.chatpath.rag import apply_sources
from tuichat.runtime.chatpath.request import (
    NOT_FOR_PIPE,
    after_inlets,
    last_user_text,
    normalize_messages,
    skip_files,
    take_files,
)
from tuichat.runtime.chatpath.retrieval import FileTexts, MakeTask, retrieve_files
from tuichat.runtime.chatpath.stream import StreamStage
from tuichat.runtime.chatpath.tool_calls import ToolCalls
from tuichat.runtime.chatpath.tools import LoadTool, PipeLink, ToolLoadFailed, native_specs, resolve_tools
from tuichat.runtime.errors import pipe_traceback, unwrap
from tuichat.runtime.invocation.channel import Channel, ChannelClosed
from tuichat.runtime.invocation.invoke import EventCallHandler, Invocation
from tuichat.runtime.invocation.request import new_request, posted_form
from tuichat.runtime.invocation.talk_back import make_emitter, make_event_call
from tuichat.runtime.invocation.trace import LogStep, RaisedStep, Step

MakePipe = Callable[[dict[str, Any], dict[str, Any]], Invocation]
# Loads the turn's filters and makes the model entry, inside the turn's task (so the
# `open_webui` stand-ins are bound for everything the filters run).
Setup = Callable[[], Awaitable[tuple[list[Filter], dict[str, Any]]]]


_PIPE_READY = object()  # the stages before the pipe are done: the pipe's batches follow
Spill = Callable[[list[Step]], Awaitable[None]]


class HookFailed(Exception):
    """An inlet or request hook failed the turn (Open WebUI shows `str(e)`)."""


class ChatInvocation(OutputStages):
    def __init__(
        self,
        *,
        setup: Setup,
        body: dict[str, Any],
        user: dict[str, Any],
        outlet_messages: list[dict[str, Any]],
        text: str,
        make_pipe: MakePipe,
        app: Callable[[], Any],
        event_call: EventCallHandler | None,
        load_tool: LoadTool | None = None,
        make_task: MakeTask | None = None,
        file_texts: FileTexts | None = None,
    ) -> None:
        self.body = body
        self.metadata: dict[str, Any] = body.setdefault("metadata", {})
        self._setup = setup
        self.model: dict[str, Any] = {}
        self.model_id = str(body.get("model"))
        self.stream = bool(body.get("stream"))
        self.filters: list[Filter] = []
        self.user = user
        self.outlet_messages = outlet_messages
        self.text = text
        self._make_pipe = make_pipe
        self._app = app
        self._event_call = event_call
        self._load_tool = load_tool
        self._make_task = make_task
        self._file_texts: FileTexts = dict(file_texts or {})
        self._tool_link: PipeLink | None = None
        self._tool_calls: ToolCalls | None = None
        self.record_call = False
        self.cancelled = False
        self._pipe: Invocation | None = None
        self._channel: Channel[Step] | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self._loop_thread = 0
        self._reported: set[tuple[str, str, str]] = set()
        self._culprit: str | None = None  # the hook that returned no body, for the error's context
        self._culprit_id: str | None = None
        self._sent_body: dict[str, Any] = {}  # what the pipe got, with `metadata` (stream's `__body__`)
        self._passthrough = False  # the pipe's steps need no stream stage (no stream filter, no outlet)
        self._pipe_offset = 0.0  # when the pipe started, in the turn's time
        self.spill: Spill | None = None  # sends steps to the app at once (the host server sets it)
        self._out: list[Step] = []  # the stream stage's output not yet handed out
        self._streaming: StreamStage | None = None
        self._running: tuple[str, str, float] | None = None  # (filter, hook, since) being awaited
        self._consumer: asyncio.Task[Any] | None = None  # the task iterating `batches`
        self._interrupting = False  # `cancel` interrupted a stream hook in the consumer

    # -- what the host server uses (as on `Invocation`) ----------------------------------
    @property
    def event_call_handler(self) -> EventCallHandler | None:
        return self._event_call

    @property
    def open(self) -> bool:
        return self._channel is not None and not self._channel.closed

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def relay(self, step: Any) -> None:
        """Captured output: while the pipe runs, in order with the pipe's own steps (through
        the turn's channel it would overtake the pipe's batch it came after)."""
        pipe = self._pipe
        if pipe is not None and pipe.open:
            pipe.relay(step)
        elif self._channel is not None:
            step.at = self.elapsed()
            self._channel.put(step)

    def take_queued(self) -> list[Step]:
        """Steps not handed out yet (sent before an event call's question, or a flood's
        events): the stream stage's output so far, the turn's own, and the pipe's when they
        pass untouched (through the stream stage, they wait)."""
        taken = self._out[:]
        self._out.clear()
        taken += self._channel.take_queued() if self._channel is not None else []
        if self._pipe is not None and self._passthrough:
            for step in (piped := self._pipe.take_queued()):
                step.at += self._pipe_offset
            taken += piped
        return taken

    def running_hook(self) -> dict[str, Any] | None:
        """The filter hook being awaited now, `{"filter", "hook", "seconds"}`, else the tool
        the pipe is awaiting, `{"tool", "function", "seconds"}`, else None."""
        running = self._running or (self._streaming.running if self._streaming is not None else None)
        if running is None:
            return self._tool_calls.running() if self._tool_calls is not None else None
        return {"filter": running[0], "hook": running[1], "seconds": round(time.monotonic() - running[2], 3)}

    def cancel(self) -> None:
        running = self.running_hook()
        self.cancelled = True
        if self._pipe is not None:
            self._pipe.cancel()
        if self._channel is not None:
            self._channel.abandon()
            self._channel.close()
        if self._task is not None and not self._task.done():
            self._task.cancel()
        consumer = self._consumer
        if running is not None and running.get("hook") == "stream" and consumer is not None and not consumer.done():
            if consumer is not asyncio.current_task():  # a stream hook awaits in the consumer itself
                self._interrupting = True
                consumer.cancel()

    async def batches(self) -> AsyncIterator[list[Step]]:
        """The turn's steps a batch at a time. The stages before the pipe run in a task of
        their own (a hook that hangs can be cancelled); the pipe's own batches are passed on
        from here, through the stream stage, with no task in between: a pipe that blocks
        the loop (or kills the process) right after a chunk must find it already sent, as
        with a bare call."""
        loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._consumer = asyncio.current_task()
        channel = self._channel = Channel(loop)
        self._started = time.monotonic()
        self._task = loop.create_task(self._produce(), name=f"chat {self.model_id}")
        try:
            while batch := await channel.get_batch():
                if self.cancelled:
                    return
                if _PIPE_READY in batch:
                    before = batch[: batch.index(_PIPE_READY)]
                    if before:
                        yield before
                    async for piped in self._through_pipe():
                        if self.cancelled:
                            return
                        if piped:
                            yield piped
                    if rest := channel.take_queued():
                        yield rest
                    return
                yield batch
        except asyncio.CancelledError:
            if not self._interrupting:
                raise
            # `cancel` stopped a stream hook that would not return: the call ends as stopped.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        finally:
            channel.close()
            if self._task is not None and not self._task.done():
                self.cancel()

    # -- the turn ---------------------------------------------------------------------
    async def _produce(self) -> None:
        """Everything before the pipe; ends with `_PIPE_READY` (or closes the channel)."""
        assert self._channel is not None
        try:
            await self._turn()
            self._channel.put(_PIPE_READY)  # type: ignore[arg-type]
            return
        except (ChannelClosed, asyncio.CancelledError):
            pass
        except HookFailed:
            pass  # already reported as the turn's error
        except BaseException as exc:  # the app must stay up, whatever a filter does
            original = unwrap(exc)
            self._put(RaisedStep(type(original).__name__, str(original), pipe_traceback(exc), self.elapsed()))
        self._channel.close()

    async def _turn(self) -> None:
        filters, self.model = await self._setup()
        self.metadata["model"] = self.model
        self.filters = select(filters, list(self.metadata.get("filter_ids") or []))
        body = await self._stage("inlet", self.body)
        # Open WebUI pops the page's fields before the call: a body an inlet replaced by
        # None fails here, as there ("'NoneType' object has no attribute 'pop'").
        try:
            skip_files(body, self.filters)
            metadata = body.pop("metadata", None) or self.metadata
            metadata["files"] = take_files(body)
            tool_ids = body.get("tool_ids")
            for key in NOT_FOR_PIPE[1:]:
                body.pop(key, None)
        except Exception as exc:
            self._fail("inlet", None, exc)
        metadata["tool_ids"] = tool_ids
        after_inlets(metadata, self.model_id, last_user_text(body, self.text))
        self.metadata = metadata
        if not is_legacy(metadata):
            body.setdefault("tools", [])  # native mode: the list stays, empty without builtins
        if tool_ids and self._load_tool is not None:
            await self._tools(list(tool_ids), body, metadata)
        await self._files(body, metadata)
        request_body = await self._stage("request", {**body, "metadata": metadata})
        try:
            normalize_messages(request_body)
            request_body.pop("metadata", None)
        except Exception as exc:
            self._fail("request", None, exc)
        self._sent_body = {**request_body, "metadata": metadata}
        pipe = self._pipe = self._make_pipe(request_body, metadata)
        pipe.record_call = self.record_call
        if self._tool_link is not None:  # the tools' events go out as the pipe's own
            self._tool_link.pipe = pipe

    async def _tools(self, tool_ids: list[str], body: dict[str, Any], metadata: dict[str, Any]) -> None:
        """`__tools__` (in `metadata["tools"]`); in native mode their specs in `body["tools"]`,
        in legacy mode the tool-selection task call and the tools it picks (`legacy_tools`)."""
        assert self._load_tool is not None
        link = self._tool_link = PipeLink(self._emitter, self._caller)
        self._tool_calls = ToolCalls(lambda record: self.relay(LogStep(record)))
        extras = {**self._offered(copy.deepcopy(self.user), body), "__messages__": body.get("messages"),
                  "__files__": metadata.get("files") or []}  # fmt: skip
        try:
            tools = await resolve_tools(tool_ids, self._load_tool, extras, link, self._tool_calls)
        except ToolLoadFailed as exc:
            self._culprit = "a selected tool could not be loaded"
            self._fail("tools", None, exc)
        if not tools:
            return
        metadata["tools"] = tools
        if not is_legacy(metadata):
            body["tools"] = native_specs(tools)
            return
        outcome = await run_legacy(body["messages"], metadata, tools, make_pipe=self._make_pipe, forward=self.relay,
                                   emit=link.emitter, report=lambda record: self._put(LogStep(record, self.elapsed())))  # fmt: skip
        metadata["sources"] = [*outcome.sources, *(metadata.get("sources") or [])]  # (ahead of the files')
        await emit_sources(outcome.sources, self._emitter())
        if outcome.skip_files:  # a file_handler tool took the files: no file context follows
            metadata.pop("files", None)

    async def _files(self, body: dict[str, Any], metadata: dict[str, Any]) -> None:
        """Attached files with Bypass Embedding and Retrieval (`retrieval.py`): the query task
        call, its two statuses, the sources, and the RAG template in the last user message."""
        sources = list(metadata.get("sources") or [])
        if metadata.get("files") and self._make_task is not None:
            sources += await retrieve_files(body, metadata, self._file_texts, self._make_task, self._emitter(), self._put_log)
        metadata["sources"] = sources
        prompt = last_user_text(body, self.text)
        if sources and prompt:
            body["messages"] = apply_sources(body["messages"], sources, prompt)

    def _put_log(self, record: dict[str, Any]) -> None:
        self._put(LogStep(record, self.elapsed()))

    async def _stage(self, hook: str, body: Any) -> Any:
        """Inlet or request hooks in order; one that raises fails the turn (no pipe call)."""
        user = copy.deepcopy(self.user)
        for f in self.filters:
            if not f.has(hook):
                continue
            before = snapshot(body)
            offered = self._offered(user, body if isinstance(body, dict) else None, f, hook)
            began = time.monotonic()
            self._running = (f.id, hook, began)
            try:
                body = await call_hook(f, hook, body, offered)
            except (ChannelClosed, asyncio.CancelledError):
                raise
            except Exception as exc:
                self._running = None
                self._fail(hook, f, exc)
            self._running = None
            returned = body_changes(before, body) if isinstance(body, dict) else [f"returned {type(body).__name__} instead of the body"]
            self._ran(f, hook, began, returned)
            if not isinstance(body, dict) and self._culprit is None:
                self._culprit = f"filter '{f.id}' {hook} returned {type(body).__name__} instead of the body"
                self._culprit_id = f.id
        return body

    def _fail(self, hook: str, f: Filter | None, exc: BaseException) -> None:
        where = f"filter '{f.id}' {hook} failed" if f is not None else (self._culprit or f"after the {hook} filters")
        self._put(LogStep({"filter": f.id if f else self._culprit_id, "hook": hook, "error": f"{where}: {type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc()}, self.elapsed()))  # fmt: skip
        # Open WebUI shows str(e); the traceback (the activity pane, the CLI's stderr) says where.
        self._put(RaisedStep(type(exc).__name__, str(exc), f"{where}:\n{traceback.format_exc()}", self.elapsed()))
        raise HookFailed(str(exc)) from exc

    def _ran(self, f: Filter, hook: str, began: float, changes: list[str]) -> None:
        ms = round((time.monotonic() - began) * 1000, 3)
        self._put(LogStep({"filter": f.id, "hook": hook, "ms": ms, "changes": changes}, self.elapsed()))

    def _report(self, record: dict[str, Any]) -> None:
        """A stream-stage problem, listed once per filter and kind (a filter that drops every
        chunk must not flood the activity)."""
        key = (str(record.get("filter")), str(record.get("hook")), str(record.get("error") or record.get("outcome")))
        if key not in self._reported:
            self._reported.add(key)
            self._put(LogStep(record, self.elapsed()))

    def _offered(self, user: dict[str, Any], body: dict[str, Any] | None, f: Filter | None = None, hook: str = "") -> dict[str, Any]:
        metadata = self.metadata
        app = self._app()
        form = posted_form(body or {}, metadata, self.user, self.model)
        source = {"filter": f.id, "hook": hook} if f is not None else None  # (None: the tools')
        return {
            "__event_emitter__": self._emitter(source, inline=hook in ("stream", "outlet")),
            "__event_call__": self._caller(source),
            "__user__": user,
            "__metadata__": metadata,
            "__model__": self.model,
            "__request__": new_request(app, metadata, form, None),
            "__chat_id__": metadata.get("chat_id"),
            "__message_id__": metadata.get("message_id"),
            "__oauth_token__": None,
        }

    def _emitter(self, source: dict[str, Any] | None = None, *, inline: bool = False) -> Callable[[Any], Awaitable[None]]:
        """A hook's `__event_emitter__`; `inline` for a hook the consumer awaits (see the module doc)."""
        assert self._channel is not None
        return make_emitter(self._channel, self.elapsed, self._loop_thread, self.metadata, lambda event: None,
                            source=source, make_room=self._make_room if inline else None)  # fmt: skip

    def _caller(self, source: dict[str, Any] | None = None) -> Callable[[Any], Awaitable[Any]]:
        assert self._channel is not None
        loop = asyncio.get_running_loop()
        return make_event_call(self._channel, self.elapsed, self._event_call, loop, self._loop_thread, source)

    async def _make_room(self) -> None:
        """The channel is full and its consumer is the one emitting: send what waits now
        (the app's pace holds the hook back, as it does a pipe), or keep it for later."""
        steps = self.take_queued()
        if self.spill is not None and steps:
            await self.spill(steps)
        else:
            self._out.extend(steps)

    def _put(self, step: Step) -> None:
        assert self._channel is not None
        self._channel.put(step)
