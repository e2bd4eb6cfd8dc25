"""One pipe call as one ordered stream of steps (spec §6.3, §7.1-7.3, §8, §9).

The wire bytes are Open WebUI 0.12.4's, branch for branch (`pipe_output` writes what the
pipe returns). Sync pipes and sync generators run on the event loop, as in Open WebUI:
this code runs in the pipe host process (`tuichat.runtime.hostproc`), so a pipe that
blocks blocks only that process, never the app. Events, event calls and output all go
through one channel, so they come out in the order the pipe made them.

Open WebUI's event emitter outlives the request: a task the pipe started can still
emit once `pipe()` has returned (a countdown, a late status), and the chat shows
it. So the channel stays open after the output while tasks the pipe started are
still running (`spawned`), for up to LATE_EVENTS_WINDOW seconds; what they emit
after that is dropped. The tasks themselves are never cancelled by this. The host
process sends these late steps to the app as they come, like any other.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from tuichat.runtime.errors import FunctionLoadError, pipe_traceback, unwrap
from tuichat.runtime.invocation.channel import Channel, ChannelClosed
from tuichat.runtime.invocation.pipe_output import PipeOutput
from tuichat.runtime.invocation.request import new_request, posted_form
from tuichat.runtime.invocation.spawned import SpawnedTasks, track_tasks
from tuichat.runtime.invocation.talk_back import make_emitter, make_event_call
from tuichat.runtime.invocation.trace import CallStep, EventStep, LogStep, RaisedStep, Step, shortened
from tuichat.runtime.loading.loader import LoadedFunction
from tuichat.runtime.valves import apply_valves, user_valves_instance

EventCallHandler = Callable[[dict[str, Any]], Awaitable[Any]]
Loader = Callable[[], Awaitable[LoadedFunction]]

# The event calls Open WebUI's browser answers with a dialog (0.12's ask-user questions
# are `request:user_input`); it also runs `execute`. Every call goes to the front end's
# handler, which answers what it can show (or was scripted to answer, `--reply`) and
# gives `refused_call_error` for the rest.
KNOWN_CALLS = frozenset({"confirmation", "input", "request:user_input", "request:elicitation", "execute"})
ANSWERABLE_CALLS = frozenset({"confirmation", "input"})  # what tuichat's own dialogs show
EMITTER_KEYS = ("session_id", "chat_id", "message_id")
# How long, at most, events from tasks the pipe started are still delivered after it returned.
LATE_EVENTS_WINDOW = 30.0


def refused_call_error(kind: object) -> str:
    return f"tuichat cannot answer a '{kind}' event call: there is no browser to run it."


class Invocation:
    """Iterate it for the steps; `cancel()` stops the pipe and ends the iteration."""

    def __init__(
        self,
        *,
        load: Loader,
        model: str,
        body: dict[str, Any],
        metadata: dict[str, Any],
        user: dict[str, Any],
        valves: dict[str, Any],
        user_valves: dict[str, Any],
        app: Callable[[], Any],
        event_call: EventCallHandler | None = None,
        late_events_window: float = LATE_EVENTS_WINDOW,
    ) -> None:
        self.model = model
        self.body = body
        self.metadata = metadata
        self.stream = bool(body.get("stream"))
        self._load = load
        self._user = user
        self._valves = valves
        self._user_valves = user_valves
        self._app = app
        self._event_call = event_call
        self._late_events_window = late_events_window
        self._spawned = SpawnedTasks()  # tasks the pipe started
        self._files: list[Any] = []  # the reply's files, as Open WebUI's `files` events store them
        self._channel: Channel[Step] | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._started = 0.0
        self.cancelled = False
        self.record_call = False  # start with the call record (`{"request": ...}`): the host process does

    # -- consumer API -----------------------------------------------------------------
    def __aiter__(self) -> AsyncIterator[Step]:
        return self._steps()

    async def _steps(self) -> AsyncIterator[Step]:
        async for batch in self.batches():
            for step in batch:
                if self.cancelled:
                    return
                yield step

    async def batches(self) -> AsyncIterator[list[Step]]:
        """The steps as they were queued, a list at a time (the host process sends one
        frame per batch)."""
        self._start()
        assert self._channel is not None and self._task is not None
        try:
            while batch := await self._channel.get_batch():
                if self.cancelled:
                    return
                yield batch
        finally:
            if not self._task.done():
                self.cancel()

    def cancel(self) -> None:
        """The pipe's task is cancelled; threads it started are told to stop (their puts fail)."""
        self.cancelled = True
        if self._channel is not None:
            self._channel.abandon()
            self._channel.close()
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    @property
    def event_call_handler(self) -> EventCallHandler | None:
        return self._event_call

    def take_queued(self) -> list[Step]:
        """The steps queued and not handed out yet, taken now: the host process sends them
        before an event call, so the text before a question is never behind it."""
        return self._channel.take_queued() if self._channel is not None else []

    @property
    def open(self) -> bool:
        """Steps relayed now will still be handed out."""
        return self._channel is not None and not self._channel.closed

    def relay(self, step: EventStep | CallStep | LogStep) -> None:
        """Add a step made elsewhere (a nested call's event, captured output) in order with
        this call's own; from any thread."""
        if self._channel is not None:
            step.at = self.elapsed()
            self._channel.put(step)

    # -- producer ---------------------------------------------------------------------
    def _start(self) -> None:
        if self._task is not None:
            raise RuntimeError("an Invocation can be iterated only once")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._channel = Channel(self._loop)
        self._started = time.monotonic()
        track_tasks(self._loop)
        self._task = self._loop.create_task(self._produce(), name=f"pipe {self.model}")

    async def _produce(self) -> None:
        assert self._channel is not None
        self._spawned.collect_here(self._task)  # this task's context only: the pipe, and the tasks it starts
        try:
            loaded = await self._loaded()
            apply_valves(loaded.instance, self._valves)
            pipe = loaded.instance.pipe
            params = self._params(loaded.instance, pipe)
            output = PipeOutput(self._channel, self.model, self.elapsed)
            if self.stream:
                await output.write_stream(pipe, params)
            else:
                await output.write_completion(pipe, params)
        except (ChannelClosed, asyncio.CancelledError):
            pass
        except BaseException as exc:  # SystemExit or KeyboardInterrupt from a pipe must not end the app
            original = unwrap(exc)
            self._channel.put(RaisedStep(type(original).__name__, str(original), pipe_traceback(exc), self.elapsed()))
        try:
            await self._late_events()
        except (ChannelClosed, asyncio.CancelledError):
            pass
        finally:
            self._channel.close()

    async def _late_events(self) -> None:
        """Keep the channel open while tasks the pipe started still run, up to the window."""
        await self._spawned.wait(self._late_events_window, stop=lambda: self.cancelled)

    async def _loaded(self) -> LoadedFunction:
        try:
            return await self._load()
        except FunctionLoadError as error:
            # Report what the pipe's own code raised, as Open WebUI would.
            raise unwrap(error.__cause__ or error) from None

    def _params(self, instance: Any, pipe: Callable[..., Any]) -> dict[str, Any]:
        """`body` by keyword, then the extras the signature names exactly (spec §6.3)."""
        metadata = self.metadata
        has_channel = all(key in metadata for key in EMITTER_KEYS)
        extras: dict[str, Any] = {
            "__event_emitter__": self._make_emitter() if has_channel else None,
            "__event_call__": self._make_event_call() if has_channel else None,
            "__chat_id__": metadata.get("chat_id"),
            "__session_id__": metadata.get("session_id"),
            "__message_id__": metadata.get("message_id"),
            "__task__": metadata.get("task"),
            "__task_body__": metadata.get("task_body"),
            "__files__": metadata.get("files") or [],
            "__user__": copy.deepcopy(self._user),
            "__metadata__": metadata,
            "__oauth_token__": None,
            "__tools__": metadata.get("tools", {}),
        }
        declared = inspect.signature(pipe).parameters
        if "__request__" in declared:  # built only for pipes that ask for it
            extras["__request__"] = self.request(relay=Relay(self) if has_channel else None)
        params = {"body": self.body} | {k: v for k, v in extras.items() if k in declared}
        if "__user__" in params and hasattr(instance, "UserValves"):
            params["__user__"]["valves"] = user_valves_instance(instance, self._user_valves)
        if self.record_call:
            self.relay(LogStep({"request": self._call_record(declared, params)}))
        return params

    def _call_record(self, declared: Any, params: dict[str, Any]) -> dict[str, Any]:
        """What the pipe was called with, for the person debugging it: the body, which
        dunders its signature declares and which it got, the valves applied (long texts cut)."""
        return {
            "model": self.model,
            "body": shortened(self.body),
            "declared": [name for name in declared if name.startswith("__")],
            "given": [name for name in params if name != "body"],
            "valves": dict(self._valves or {}),
            "user_valves": dict(self._user_valves or {}),
        }

    def request(self, relay: Relay | None = None) -> Any:
        """The call's `__request__` (see `tuichat.runtime.invocation.request`)."""
        app = self._app()
        model_item = getattr(app.state, "MODELS", {}).get(self.model)
        return new_request(app, self.metadata, posted_form(self.body, self.metadata, self._user, model_item), relay)

    # -- what the pipe gets to talk back with ----------------------------------------
    def emitter_for_tools(
        self, source: dict[str, Any] | None = None
    ) -> tuple[Callable[[Any], Awaitable[Any]], Callable[[Any], Awaitable[Any]]]:
        """The `__event_emitter__` and `__event_call__` a tool called by this pipe uses, what
        they send tagged with `source` (the tool and function)."""

        async def emit(event: Any) -> Any:
            if self._channel is None:
                return None
            assert self._channel is not None
            emitter = make_emitter(self._channel, self.elapsed, self._loop_thread, self.metadata, self._store_files, source=source)
            return await emitter(event)

        async def call(event: Any) -> Any:
            if self._channel is None or self._loop is None:
                return None
            caller = make_event_call(self._channel, self.elapsed, self._event_call, self._loop, self._loop_thread, source)
            return await caller(event)

        return emit, call

    def _make_emitter(self) -> Callable[[Any], Awaitable[None]]:
        assert self._channel is not None
        return make_emitter(self._channel, self.elapsed, self._loop_thread, self.metadata, self._store_files)

    def _store_files(self, event: dict[str, Any]) -> None:
        """Open WebUI saves a `files` event as the event's own list extended, in place,
        with the files the message already has: the pipe's list grows too."""
        data = event.get("data")
        files = data.get("files") if isinstance(data, dict) else None
        if isinstance(files, list):
            files.extend(self._files)
            self._files = files

    def _make_event_call(self) -> Callable[[Any], Awaitable[Any]]:
        assert self._channel is not None and self._loop is not None
        return make_event_call(self._channel, self.elapsed, self._event_call, self._loop, self._loop_thread)


class Relay:
    """What a nested `generate_chat_completion` needs from the call it runs inside:
    Open WebUI shares the chat's ids with it, so its events reach the same chat."""

    def __init__(self, invocation: Invocation) -> None:
        self._invocation = invocation

    @property
    def event_call(self) -> EventCallHandler | None:
        return self._invocation.event_call_handler

    def forward(self, step: EventStep | CallStep) -> None:
        self._invocation.relay(step)

