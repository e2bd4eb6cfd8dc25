"""One framed connection between the app and the host process, requests both ways.

Either side may ask (`request`) and answer; step frames of an invocation go to the
sink registered for it, with their size. Requests are served in tasks of their own, so a
long one (an invocation) never holds up the next frame.

A sink whose steps pile up faster than they are consumed (a pipe flooding a slow screen)
`hold`s the connection: no frame is read until it `release`s it, so the socket fills, the
other side's `drain` waits, and the flood waits in the pipe instead of in this process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tuichat.runtime.hostproc.wire import HEADER, MAX_FRAME, decode_error, encode_error, frame, loads

Handler = Callable[[str, dict[str, Any]], Awaitable[Any]]
StepSink = Callable[[list[Any], int], None]  # a frame's steps and its size in bytes


class ConnectionLost(Exception):
    """The other side is gone; `reason` says how, when it is known."""


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler) -> None:
        self._reader = reader
        self._writer = writer
        self._handler = handler
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.sinks: dict[int, StepSink] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed: BaseException | None = None
        self._holders: set[object] = set()
        self._room = asyncio.Event()
        self._room.set()

    # -- sending ---------------------------------------------------------------------
    def send(self, message: Any) -> None:
        if self.closed is None:
            self._writer.write(frame(message))

    async def drain(self) -> None:
        try:
            await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._lost(ConnectionLost(str(exc)))
            raise ConnectionLost(str(exc)) from exc

    def start_request(self, op: str, **args: Any) -> tuple[int, asyncio.Future[Any]]:
        """Send a request; its id and the future of its answer."""
        if self.closed is not None:
            raise ConnectionLost(str(self.closed)) from self.closed
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self.send({"id": request_id, "op": op, **args})
        return request_id, future

    async def request(self, op: str, **args: Any) -> Any:
        _, future = self.start_request(op, **args)
        await self.drain()
        return await future

    def forget(self, request_id: int) -> None:
        self._pending.pop(request_id, None)
        self.sinks.pop(request_id, None)

    # -- receiving -------------------------------------------------------------------
    def hold(self, holder: object) -> None:
        """Read no more frames until `holder` releases (see the module doc)."""
        self._holders.add(holder)
        self._room.clear()

    def release(self, holder: object) -> None:
        self._holders.discard(holder)
        if not self._holders:
            self._room.set()

    async def serve(self) -> None:
        """Read frames until the other side goes; then every waiting request fails."""
        reason: BaseException = ConnectionLost("the connection closed")
        try:
            while True:
                if not self._room.is_set():
                    await self._room.wait()
                header = await self._reader.readexactly(HEADER.size)
                (size,) = HEADER.unpack(header)
                if size > MAX_FRAME:
                    reason = ConnectionLost(f"a frame of {size} bytes: the stream is broken")
                    break
                self._dispatch(loads(await self._reader.readexactly(size)), size)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            reason = ConnectionLost(f"the connection closed ({type(exc).__name__})")
        except ValueError as exc:  # not JSON: the stream is out of step
            reason = ConnectionLost(f"an unreadable frame: {exc}")
        finally:
            self._lost(reason)

    def _dispatch(self, message: dict[str, Any], size: int) -> None:
        if "b" in message:
            sink = self.sinks.get(message["call"])
            if sink is not None:
                sink(message["b"], size)
        elif "re" in message:
            future = self._pending.pop(message["re"], None)
            if future is not None and not future.done():
                if "err" in message:
                    future.set_exception(decode_error(message["err"]))
                else:
                    future.set_result(message.get("ok"))
        elif "op" in message:
            task = asyncio.get_running_loop().create_task(self._answer(message))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: dict[str, Any]) -> None:
        request_id = message.pop("id", None)
        op = message.pop("op")
        try:
            result = await self._handler(op, message | {"_id": request_id})
        except asyncio.CancelledError:
            return
        except BaseException as exc:  # noqa: BLE001 - any failure is the asker's to see
            answer: dict[str, Any] = {"re": request_id, "err": encode_error(exc)}
        else:
            answer = {"re": request_id, "ok": result}
        if request_id is not None:
            self.send(answer)
            try:
                await self.drain()
            except ConnectionLost:
                pass

    def _lost(self, reason: BaseException) -> None:
        if self.closed is not None:
            return
        self.closed = reason
        self._room.set()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(str(reason)))
        self._pending.clear()
        for task in self._tasks:
            task.cancel()
        self._writer.close()
