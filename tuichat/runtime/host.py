"""The pipe host: stored functions in, models and invocations out.

This is the runtime's front door for the CLI and the TUI. No function code runs in
the app: `PipeHost` is the client of the host process (`tuichat.runtime.hostproc`),
started on the first request and started again after it dies. The app keeps the store:
it looks rows up and sends them with each request, and answers the host's questions
about them (`FunctionRecords`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from tuichat.runtime.errors import FunctionDisabled, UnknownModel
from tuichat.runtime.hostproc.client import EventCallHandler, RemoteInvocation
from tuichat.runtime.hostproc.host_log import HostLog
from tuichat.runtime.hostproc.process import HostProcess
from tuichat.runtime.hostproc.rpc import ConnectionLost
from tuichat.runtime.hostproc.spawn import early_session, new_session_id
from tuichat.runtime.hostproc.wire import HostError
from tuichat.runtime.listing import LISTING_TIMEOUT, ModelListing, make_body, new_metadata
from tuichat.runtime.models import FunctionModels, pipe_id_of
from tuichat.runtime.records import StoreRecords
from tuichat.store import FunctionRow, Store

__all__ = ["LISTING_TIMEOUT", "HostDied", "ModelListing", "PipeHost", "make_body", "new_metadata"]

LOAD_TIMEOUT = 60.0  # seconds loading a source may take before the host is restarted
VALVES_TIMEOUT = 30.0  # seconds reading or checking valves may take (it may load the source)
SLACK = 10.0  # beyond a request's own timeout, before the app gives up on the host


class HostDied(HostError):
    """The host process died (or was killed) while serving a request."""


class PipeHost:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.records = StoreRecords(store)
        # A host started early for this database already has its session id.
        self.session_id = early_session(store.path) or new_session_id()
        self._process: HostProcess | None = None
        self._lock: asyncio.Lock | None = None
        self.load_timeout = LOAD_TIMEOUT
        self.valves_timeout = VALVES_TIMEOUT
        self.log = HostLog()  # what the host printed that no call claimed, across restarts

    # -- the process ----------------------------------------------------------------------
    async def process(self) -> HostProcess:
        """The running host process, started (again) if there is none."""
        if self._process is not None and self._process.alive:
            return self._process
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._process is None or not self._process.alive:
                if self._process is not None:
                    await self._process.close()
                self._process = await HostProcess.start(self.store.path, self.session_id, self._answer)
                self._process.on_output = self.log.add
        return self._process

    async def __aenter__(self) -> PipeHost:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop the host process (kill: quitting never waits for a pipe)."""
        if self._process is not None:
            await self._process.close()
            self._process = None

    async def _request(self, op: str, time_limit: float | None = None, *, again: bool = False, **args: Any) -> Any:
        """`again`: a question with no side effects, asked once more of a new host if the one
        it waited on was stopped meanwhile (another call that would not stop cost it)."""
        process = await self.process()
        try:
            return await asyncio.wait_for(process.connection.request(op, **args), time_limit)
        except ConnectionLost:
            if again:
                await process.death()
                return await self._request(op, time_limit, **args)
            raise HostDied(await process.death()) from None
        except TimeoutError:
            await process.stop_stuck(f"'{op}' took longer than {time_limit:g} s")
            death = await process.death()
            where = process.stuck_at()
            raise HostDied(death + (f" (it was at {where})" if where else "")) from None

    async def _answer(self, op: str, args: dict[str, Any]) -> Any:
        """What the host asks of the app: rows from the store, answers to event calls."""
        if op == "event_call":
            process = self._process
            invocation = process.calls.get(args["call"]) if process is not None else None
            return await invocation.answer_event_call(args["event"]) if invocation is not None else None
        records = self.records
        if op == "records.pipe_rows":
            return [dataclasses.asdict(row) for row in await records.pipe_rows()]
        if op == "records.row":
            row = await records.row(args["function_id"])
            return dataclasses.asdict(row) if row is not None else None
        if op == "records.local_user":
            return await records.local_user()
        if op == "records.user_valves":
            return await records.user_valves(args["function_id"], args["user_id"])
        if op == "records.deactivate":
            return await records.deactivate(args["function_id"], args["error"])
        if op == "records.set_error":
            return await records.set_error(args["function_id"], args["error"])
        raise ValueError(f"the app has no operation '{op}'")

    # -- models -------------------------------------------------------------------------
    async def list_models(self, timeout: float = LISTING_TIMEOUT) -> ModelListing:
        rows = await self.store.functions.list(type="pipe")
        active = [row for row in rows if row.is_active]
        try:
            results = await self._request(
                "list", timeout + SLACK, rows=[dataclasses.asdict(row) for row in active], timeout=timeout
            )
            functions = [FunctionModels(**result) for result in results]
        except HostDied:
            # One function took the process down with it (or something outside killed it):
            # list them one at a time on fresh processes, so only the culprit goes without.
            functions = [await self._models_of_row(row, timeout) for row in active]
        return ModelListing([m for f in functions for m in f.models], functions, [r for r in rows if not r.is_active])

    async def models_of(self, function_id: str) -> FunctionModels:
        """The models one stored function offers (its `pipes()` evaluated now), loading only it."""
        row = await self.store.functions.get(function_id)
        if row is None:
            raise UnknownModel(f"no function '{function_id}' is stored.")
        return await self._models_of_row(row, LISTING_TIMEOUT)

    async def _models_of_row(self, row: FunctionRow, timeout: float) -> FunctionModels:
        try:
            result = await self._request("models_of", timeout + SLACK, row=dataclasses.asdict(row), timeout=timeout)
        except HostDied as died:
            return FunctionModels(row.id, [], f"listing models failed: {died}")
        return FunctionModels(**result)

    # -- loading, for the library ----------------------------------------------------------
    async def check_load(self, function_id: str, content: str, source: str | None = None) -> dict[str, Any]:
        """Load a source in the host (raises FunctionLoadError); a good one serves from now on.
        Gives `{"type": ..., "frontmatter": {...}}`."""
        return dict(await self._request("load", self.load_timeout, function_id=function_id, content=content, source=source))

    async def forget(self, function_id: str) -> None:
        """Drop a function's loaded instance (if the host is not running, there is none)."""
        if self._process is not None and self._process.alive:
            try:
                await self._request("forget", SLACK, function_id=function_id)
            except HostDied:
                pass

    # -- valves, read and checked by the function's own classes --------------------------
    async def valves(self, op: str, function_id: str, content: str, **args: Any) -> dict[str, Any]:
        """`describe` or `check` a function's valves in the host (`valve_checks`). A Valves class
        that takes the host down (or never returns) costs that process only: HostDied says so."""
        try:
            result = await self._request(f"valves.{op}", self.valves_timeout, function_id=function_id, content=content, **args)
        except HostDied as died:
            what = "reading" if op == "describe" else "checking"
            raise HostDied(
                f"{what} the {'user ' if args.get('user') else ''}valves of '{function_id}' stopped the pipe process "
                f"({died}); tuichat is fine and starts a new one for the next request. The pipe's "
                f"{'UserValves' if args.get('user') else 'Valves'} class runs then (defaults, validators, options): look there."
            ) from None
        return dict(result)

    async def filter_facts(self, rows: list[FunctionRow]) -> list[dict[str, Any]]:
        """Each filter's priority and toggle, read in the host (`tuichat.runtime.filter_facts`)."""
        return list(await self._request("filters.facts", self.valves_timeout, rows=[dataclasses.asdict(row) for row in rows]))

    # -- invocation ---------------------------------------------------------------------
    async def function_for_model(self, model_id: str, *, direct: bool = False) -> FunctionRow:
        """The active pipe function serving `model_id`; UnknownModel or FunctionDisabled.

        A manifold's bare id is refused, listing its models, as Open WebUI's chat refuses a
        model it does not list; `direct` routes it to the function anyway, as Open WebUI's
        `generate_function_chat_completion` does (the conformance cases call it that way).
        The host process decides, as it has to load the function to know.
        """
        pipe_id = pipe_id_of(model_id)
        row = await self.store.functions.get(pipe_id)
        if row is None or row.type != "pipe":
            raise UnknownModel(
                f"unknown model '{model_id}': no pipe function '{pipe_id}' is stored. "
                "Run `tuichat models` to see the models there are."
            )
        if not row.is_active:
            why = f" ({row.load_error})" if row.load_error else ""
            raise FunctionDisabled(
                f"model '{model_id}' belongs to function '{row.id}', which is disabled{why}. "
                f"Fix it, then run `tuichat pipes enable {row.id}`."
            )
        if model_id == row.id and not direct:
            await self._request("refuse_manifold", LISTING_TIMEOUT + SLACK, again=True, row=dataclasses.asdict(row))
        return row

    async def invoke(
        self,
        model_id: str,
        body: dict[str, Any],
        *,
        metadata: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
        event_call: EventCallHandler | None = None,
        direct: bool = False,
    ) -> RemoteInvocation:
        """Prepare a call; raises UnknownModel or FunctionDisabled before anything runs
        (`direct`: see `function_for_model`)."""
        row = await self.function_for_model(model_id, direct=direct)
        local_user = await self.store.users.local()
        # tuichat has one user: `user` may change what `__user__` shows, but the
        # user valves are always the local user's own.
        user_valves = await self.store.functions.get_user_valves(row.id, local_user["id"])
        return RemoteInvocation(
            self.process, row, model_id, body, metadata=dict(metadata or {}), user=user if user is not None else local_user,
            user_valves=user_valves, event_call=event_call,
        )  # fmt: skip
