"""What the pipe host process runs: function rows in, models and invocations out.

`PipeEngine` loads and runs function code. It runs in the host process
(`tuichat.runtime.hostproc`), where it reads and records function rows through
`FunctionRecords`: there, requests back to the app, which owns the store. The app's
front door is `tuichat.runtime.host.PipeHost`, the client of that process.
"""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

from tuichat import compat
from tuichat.runtime.errors import FunctionDisabled, FunctionLoadError, UnknownModel, describe
from tuichat.runtime.filter_checks import facts_of
from tuichat.runtime.invocation.invoke import EventCallHandler, Invocation, Relay
from tuichat.runtime.invocation.nested import relay_of, response_of, wire_items
from tuichat.runtime.listing import LISTING_TIMEOUT, ModelListing
from tuichat.runtime.loading.loader import FunctionCache, LoadedFunction, load_function
from tuichat.runtime.loading.missing import diagnose
from tuichat.runtime.models import FunctionModels, function_models, pipe_id_of
from tuichat.runtime.records import FunctionRecords
from tuichat.runtime.valve_checks import check as check_valves
from tuichat.runtime.valve_checks import describe as describe_valves
from tuichat.runtime.valves import apply_valves
from tuichat.store.functions import FunctionRow
from tuichat.store.sync import SyncStore


class PipeEngine:
    """Also the `compat.ModelHost` of its pipes: they call its models through `open_webui`."""

    def __init__(self, records: FunctionRecords, session_id: str | None = None) -> None:
        self.records = records
        # Published pipes import `open_webui`; its stand-ins serve this host while it runs them.
        compat.install()
        self._compat = compat.CompatHost(
            tables=SyncStore(records.path), data_dir=records.path.parent, models=self, app=lambda: self.app
        )
        self.cache = FunctionCache(on_load_failure=self._deactivate)
        self.session_id = session_id or f"tuichat-{uuid.uuid4().hex[:12]}"
        self._app: Any = None

    @property
    def app(self) -> Any:
        """`open_webui.main.app` and `__request__.app` for this host's pipes (a Starlette
        app, made when first needed: importing Starlette costs start-up time)."""
        if self._app is None:
            from tuichat.compat._app import new_app

            self._app = new_app()
        return self._app

    @property
    def app_state(self) -> Any:
        """What `__request__.app.state` shows pipes, as in Open WebUI: MODELS, BASE_MODELS, FUNCTIONS, ..."""
        return self.app.state

    def bound(self) -> AbstractContextManager[None]:
        """The `open_webui` stand-ins serve this host inside the block: wrap any pipe code
        run on this host's behalf that its own methods do not run."""
        return compat.bound(self._compat)

    async def _deactivate(self, function_id: str, error: FunctionLoadError) -> None:
        """Open WebUI deactivates a function whose load fails; we also keep why."""
        await self.records.deactivate(function_id, error_text(error))

    async def load(self, row: FunctionRow) -> LoadedFunction:
        with self.bound():  # the module's top-level code runs now
            loaded = await self.cache.get(row.id, row.content)
        self.app_state.FUNCTIONS[row.id] = loaded.instance
        self.app_state.FUNCTION_CONTENTS[row.id] = loaded.content
        return loaded

    async def check_load(self, function_id: str, content: str, source: str | None = None) -> dict[str, Any]:
        """Load a source to check it (a save, an add): a good one serves from now on, as
        Open WebUI keeps the instance its update built. A failure names the module it
        misses, if that is why (`source`: the file, for the hint)."""
        importlib.invalidate_caches()  # pip may have just installed what it imports (in the app's process)
        try:
            with self.bound():  # the module's top-level code may use `open_webui`
                loaded = await load_function(function_id, content)
        except FunctionLoadError as error:
            missing = diagnose(error.__cause__ or error, file=source)
            if missing is not None:
                error.missing = missing
            raise
        self.cache.put(loaded)
        return {"type": loaded.type, "frontmatter": loaded.frontmatter}

    async def _load_for_call(self, row: FunctionRow) -> LoadedFunction:
        # An invocation runs its pipe in a task of its own, which begins by loading: bound
        # here, the whole task is this host's (the pipe call, its generators, the worker
        # threads it starts), and no task outside the call is.
        compat.bind(self._compat)
        return await self.load(row)

    # -- valves: their classes are pipe code ---------------------------------------------
    async def valves(self, op: str, function_id: str, content: str, **args: Any) -> dict[str, Any]:
        """`describe` a function's Valves (or UserValves) fields, or `check` values against them
        (see `valve_checks`); the function is loaded if it is not already."""
        with self.bound():
            loaded = await self.cache.get(function_id, content)
            if op == "describe":
                return describe_valves(loaded.instance, function_id, **args)
            return check_valves(loaded.instance, function_id, **args)

    async def filter_facts(self, rows: list[FunctionRow]) -> list[dict[str, Any]]:
        """Each filter's priority and toggle, read from its loaded instance (`filter_checks`)."""
        answers: list[dict[str, Any]] = []
        for row in rows:
            try:
                loaded = await self.load(row)
            except FunctionLoadError as error:
                answers.append({"id": row.id, "error": str(error)})
                continue
            with self.bound():  # Valves(**saved) is function code
                answers.append(facts_of(loaded.instance, row))
        return answers

    # -- models -------------------------------------------------------------------------
    async def list_models(self, timeout: float = LISTING_TIMEOUT, rows: list[FunctionRow] | None = None) -> ModelListing:
        rows = rows if rows is not None else await self.records.pipe_rows()
        active = [row for row in rows if row.is_active]
        with self.bound():  # `pipes()` is pipe code, and the tasks gather starts inherit this
            results = await asyncio.gather(*(self._models_of(row, timeout) for row in active))
        listing = ModelListing([m for r in results for m in r.models], list(results), [r for r in rows if not r.is_active])
        self.app_state.MODELS = listing.by_id()
        self.app_state.BASE_MODELS = list(listing.models)
        await self._record_listing_errors(active, results)
        return listing

    async def _models_of(self, row: FunctionRow, timeout: float) -> FunctionModels:
        try:
            return await asyncio.wait_for(self._list_function(row), timeout)
        except TimeoutError:
            return FunctionModels(row.id, [], f"listing models took longer than {timeout:g} s; skipped")
        except FunctionLoadError as error:
            return FunctionModels(row.id, [], str(error), error.detail)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # invalid stored valves, for one: the function is skipped
            return FunctionModels(row.id, [], describe(exc))

    async def _list_function(self, row: FunctionRow) -> FunctionModels:
        loaded = await self.load(row)
        apply_valves(loaded.instance, row.valves)
        return await function_models(row.id, row.name, row.type, row.created_at, loaded.instance)

    async def models_of(self, row: FunctionRow, timeout: float = LISTING_TIMEOUT) -> FunctionModels:
        """The models one function offers (its `pipes()` evaluated now), loading only it."""
        with self.bound():
            return await self._models_of(row, timeout)

    async def _record_listing_errors(self, rows: list[FunctionRow], results: list[FunctionModels]) -> None:
        for row, result in zip(rows, results):
            if result.error == row.load_error:
                continue
            # A load failure has already deactivated the row and kept the full traceback.
            await self.records.set_error(row.id, result.error)

    # -- invocation ---------------------------------------------------------------------
    async def function_for_model(self, model_id: str, *, direct: bool = False) -> FunctionRow:
        """The active pipe function serving `model_id` (see `PipeHost.function_for_model`)."""
        pipe_id = pipe_id_of(model_id)
        row = await self.records.row(pipe_id)
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
            await self.refuse_manifold(row)
        return row

    async def refuse_manifold(self, row: FunctionRow) -> None:
        """A manifold's bare id is no model (Open WebUI lists only `id.sub`): say which are."""
        try:
            with self.bound():
                loaded = await self.load(row)
        except FunctionLoadError:
            return  # the call reports the load error, as it would anyway
        if not hasattr(loaded.instance, "pipes"):
            return
        listed = await self.models_of(row)
        models = [model["id"] for model in listed.models]
        offered = f"its models are: {', '.join(models)}" if models else "it offers no models now"
        why = f" ({listed.error})" if listed.error else ""
        raise UnknownModel(
            f"'{row.id}' is a manifold, not a model: {offered}{why}. Run `tuichat run {models[0] if models else row.id + '.ID'} ...`."
        )

    async def invoke(
        self,
        model_id: str,
        body: dict[str, Any],
        *,
        metadata: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
        event_call: EventCallHandler | None = None,
        direct: bool = False,
    ) -> Invocation:
        """Prepare a call; raises UnknownModel or FunctionDisabled before anything runs
        (`direct`: see `function_for_model`)."""
        row = await self.function_for_model(model_id, direct=direct)
        local_user = await self.records.local_user()
        # tuichat has one user: `user` may change what `__user__` shows, but the
        # user valves are always the local user's own.
        user_valves = await self.records.user_valves(row.id, local_user["id"])
        return self.invocation_for(
            row, model_id, body, metadata=metadata, user=user if user is not None else local_user,
            user_valves=user_valves, event_call=event_call,
        )  # fmt: skip

    def invocation_for(
        self,
        row: FunctionRow,
        model_id: str,
        body: dict[str, Any],
        *,
        metadata: dict[str, Any] | None,
        user: dict[str, Any],
        user_valves: dict[str, Any],
        event_call: EventCallHandler | None,
    ) -> Invocation:
        """A call of a row the caller has already looked up (the app sends it along)."""
        body = {**body, "model": model_id}
        metadata = {**(body.pop("metadata", None) or {}), **(metadata or {})}
        return Invocation(
            load=lambda: self._load_for_call(row),
            model=model_id,
            body=body,
            metadata=metadata,
            user=user,
            valves=row.valves,
            user_valves=user_valves,
            app=lambda: self.app,
            event_call=event_call,
        )

    # -- a pipe calling another model (compat.ModelHost) -------------------------------
    async def has_model(self, model_id: str) -> bool:
        if model_id not in self.app_state.MODELS:
            await self.list_models()
        return model_id in self.app_state.MODELS

    async def stream_model(
        self, request: object, model_id: str, body: dict[str, Any], *, metadata: dict[str, Any], user: dict[str, Any]
    ) -> AsyncIterator[str | bytes]:
        relay = relay_of(request)
        return wire_items(await self._nested(model_id, body, metadata, user, relay), relay)

    async def model_response(
        self, request: object, model_id: str, body: dict[str, Any], *, metadata: dict[str, Any], user: dict[str, Any]
    ) -> Any:
        relay = relay_of(request)
        return await response_of(await self._nested(model_id, body, metadata, user, relay), relay)

    async def _nested(
        self, model_id: str, body: dict[str, Any], metadata: dict[str, Any], user: dict[str, Any], relay: Relay | None
    ) -> Invocation:
        # The called pipe has no front end of its own: it asks the calling reply's.
        event_call = relay.event_call if relay is not None else None
        return await self.invoke(model_id, body, metadata=metadata, user=user, event_call=event_call)


def error_text(error: FunctionLoadError) -> str:
    return f"{error}\n\n{error.detail}".rstrip() if error.detail else str(error)
