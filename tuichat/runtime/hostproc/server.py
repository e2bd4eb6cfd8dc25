"""The host process's side: the engine, serving the app's requests over the connection.

Function rows come from the app: with each request when the app has them at hand, else
asked for (`records.*`), so this process never opens the chat store. The `open_webui`
stand-ins open the database file themselves (`tuichat.store.sync`), as Open WebUI's
functions use its server's database.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from tuichat.runtime.chatpath.hosting import chat_invocation
from tuichat.runtime.chatpath.run import ChatInvocation
from tuichat.runtime.engine import PipeEngine
from tuichat.runtime.hostproc.capture import Capture
from tuichat.runtime.hostproc.rpc import Connection
from tuichat.runtime.hostproc.wire import encode_step
from tuichat.runtime.invocation.invoke import Invocation
from tuichat.runtime.invocation.trace import LogStep
from tuichat.runtime.listing import LISTING_TIMEOUT
from tuichat.store.functions import FunctionRow


def row_of(data: dict[str, Any]) -> FunctionRow:
    return FunctionRow(**data)


class RemoteRecords:
    """`FunctionRecords` asked of the app, which owns the store."""

    def __init__(self, connection: Connection, path: Path) -> None:
        self._connection = connection
        self.path = path

    async def pipe_rows(self) -> list[FunctionRow]:
        return [row_of(row) for row in await self._connection.request("records.pipe_rows")]

    async def row(self, function_id: str) -> FunctionRow | None:
        data = await self._connection.request("records.row", function_id=function_id)
        return row_of(data) if data is not None else None

    async def local_user(self) -> dict[str, Any]:
        return dict(await self._connection.request("records.local_user"))

    async def user_valves(self, function_id: str, user_id: str) -> dict[str, Any]:
        return dict(await self._connection.request("records.user_valves", function_id=function_id, user_id=user_id))

    async def deactivate(self, function_id: str, error: str) -> None:
        await self._connection.request("records.deactivate", function_id=function_id, error=error)

    async def set_error(self, function_id: str, error: str | None) -> None:
        await self._connection.request("records.set_error", function_id=function_id, error=error)


class HostServer:
    def __init__(self, path: Path, session_id: str, capture: Capture | None = None) -> None:
        self.path = path
        self.session_id = session_id
        self.capture = capture
        self.connection: Connection | None = None
        self.engine: PipeEngine | None = None
        self._calls: dict[int, Invocation | ChatInvocation] = {}

    def attach(self, connection: Connection) -> None:
        self.connection = connection
        self.engine = PipeEngine(RemoteRecords(connection, self.path), self.session_id)

    async def handle(self, op: str, args: dict[str, Any]) -> Any:
        engine = self.engine
        assert engine is not None
        if op == "invoke":
            return await self._invoke(args["_id"], args)
        if op == "cancel":  # answered with the filter hook it stopped, if any (the chat path)
            invocation = self._calls.get(args["call"])
            if invocation is None:
                return None
            running = invocation.running_hook() if isinstance(invocation, ChatInvocation) else None
            invocation.cancel()
            return running
        if op == "list":
            rows = [row_of(row) for row in args["rows"]]
            listing = await engine.list_models(args["timeout"], rows=rows)
            return [dataclasses.asdict(result) for result in listing.functions]
        if op == "models_of":
            return dataclasses.asdict(await engine.models_of(row_of(args["row"]), args.get("timeout", LISTING_TIMEOUT)))
        if op == "refuse_manifold":
            return await engine.refuse_manifold(row_of(args["row"]))
        if op == "load":
            return await engine.check_load(args["function_id"], args["content"], args.get("source"))
        if op in ("valves.describe", "valves.check"):
            what = {key: value for key, value in args.items() if key != "_id"}
            return await engine.valves(op.removeprefix("valves."), **what)
        if op == "filters.facts":
            return await engine.filter_facts([row_of(row) for row in args["rows"]])
        if op == "forget":
            engine.cache.forget(args["function_id"])
            return None
        if op == "ping":
            return "pong"
        raise ValueError(f"the pipe host has no operation '{op}'")

    async def _invoke(self, call_id: int, args: dict[str, Any]) -> None:
        engine, connection = self.engine, self.connection
        assert engine is not None and connection is not None
        event_call = self._event_call(call_id) if args.get("event_call") else None
        invocation: Any
        if args.get("chat") is not None:  # the chat path: filters around the pipe
            invocation = chat_invocation(
                engine, row_of(args["row"]), args["model"], args["body"], args["chat"],
                user=args["user"], user_valves=args["user_valves"], event_call=event_call,
            )  # fmt: skip

            async def spill(steps: list[Any]) -> None:  # a stream or outlet hook's flood, sent at once
                connection.send({"call": call_id, "b": [encode_step(step) for step in steps]})
                await connection.drain()

            invocation.spill = spill
        else:
            invocation = engine.invocation_for(
                row_of(args["row"]), args["model"], args["body"],
                metadata=args["metadata"], user=args["user"], user_valves=args["user_valves"], event_call=event_call,
            )  # fmt: skip
        invocation.record_call = True
        self._calls[call_id] = invocation
        late: list[LogStep] = []

        def emit(record: dict[str, Any]) -> None:
            step = LogStep(record)
            if invocation.open:
                invocation.relay(step)
            else:  # after the last step: sent just before the call's answer
                step.at = invocation.elapsed()
                late.append(step)

        capture = self.capture
        # Set before the pipe's task starts, so it and everything it starts inherit it.
        captured = capture.begin(emit) if capture is not None else None
        try:
            async for batch in invocation.batches():
                connection.send({"call": call_id, "b": [encode_step(step) for step in batch]})
                await connection.drain()
        finally:
            del self._calls[call_id]
            if capture is not None and captured is not None:
                await asyncio.sleep(0.005)  # output a subprocess wrote is on its way from the fd readers
                capture.end(*captured)
            if late:
                connection.send({"call": call_id, "b": [encode_step(step) for step in late]})

    def _event_call(self, call_id: int) -> Any:
        connection = self.connection
        assert connection is not None

        async def ask(event: dict[str, Any]) -> Any:
            invocation = self._calls.get(call_id)
            queued = invocation.take_queued() if invocation is not None else []
            if queued:  # what the pipe said before asking reaches the app before the question
                connection.send({"call": call_id, "b": [encode_step(step) for step in queued]})
            return await connection.request("event_call", call=call_id, event=event)

        return ask
