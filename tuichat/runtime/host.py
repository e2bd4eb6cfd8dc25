"""The pipe host: stored functions in, models and invocations out.

This is the runtime's front door for the CLI and the TUI. It never imports Textual.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from tuichat import compat
from tuichat.runtime.errors import FunctionDisabled, FunctionLoadError, UnknownModel, describe
from tuichat.runtime.invocation.invoke import EventCallHandler, Invocation, Relay
from tuichat.runtime.invocation.nested import relay_of, response_of, wire_items
from tuichat.runtime.invocation.output import pipe_code
from tuichat.runtime.loading.loader import FunctionCache, LoadedFunction
from tuichat.runtime.models import FunctionModels, function_models, pipe_id_of
from tuichat.runtime.valves import apply_valves
from tuichat.store import FunctionRow, Store
from tuichat.store.sync import SyncStore

LISTING_TIMEOUT = 30.0  # seconds one function may take to load and list its models


@dataclass
class ModelListing:
    """Every model, in function order, and what went wrong where."""

    models: list[dict[str, Any]]
    functions: list[FunctionModels] = field(default_factory=list)
    inactive: list[FunctionRow] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        found = {f.function_id: f.error for f in self.functions if f.error}
        found.update({row.id: row.load_error or "disabled" for row in self.inactive})
        return found

    def by_id(self) -> dict[str, dict[str, Any]]:
        return {model["id"]: model for model in self.models}


def new_metadata(chat_id: str | None = None, message_id: str | None = None, *, user_id: str, session_id: str) -> dict[str, Any]:
    """The ids Open WebUI's chat puts in `__metadata__`, which also enable events."""
    return {
        "user_id": user_id,
        "chat_id": chat_id or str(uuid.uuid4()),
        "message_id": message_id or str(uuid.uuid4()),
        "session_id": session_id,
    }


def make_body(model_id: str, messages: list[dict[str, Any]], *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {"model": model_id, "messages": messages, "stream": stream, **extra}


class PipeHost:
    """Also the `compat.ModelHost` of its pipes: they call its models through `open_webui`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # Published pipes import `open_webui`; its stand-ins serve this host while it runs them.
        compat.install()
        self._compat = compat.CompatHost(
            tables=SyncStore(store.path), data_dir=store.path.parent, models=self, app=lambda: self.app
        )
        self.cache = FunctionCache(on_load_failure=self._deactivate)
        self.session_id = f"tuichat-{uuid.uuid4().hex[:12]}"
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
        await self.store.functions.update(function_id, is_active=False, load_error=_error_text(error))

    async def load(self, row: FunctionRow) -> LoadedFunction:
        with self.bound():  # the module's top-level code runs now
            loaded = await self.cache.get(row.id, row.content)
        self.app_state.FUNCTIONS[row.id] = loaded.instance
        self.app_state.FUNCTION_CONTENTS[row.id] = loaded.content
        return loaded

    async def _load_for_call(self, row: FunctionRow) -> LoadedFunction:
        # An invocation runs its pipe in a task of its own, which begins by loading: bound
        # here, the whole task is this host's (the pipe call, its generators, the worker
        # threads it starts), and no task outside the call is.
        compat.bind(self._compat)
        return await self.load(row)

    # -- models -------------------------------------------------------------------------
    async def list_models(self, timeout: float = LISTING_TIMEOUT) -> ModelListing:
        rows = await self.store.functions.list(type="pipe")
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
        with pipe_code():  # `pipes()` is the pipe's own code (and its prints go to stderr)
            apply_valves(loaded.instance, row.valves)
            return await function_models(row.id, row.name, row.type, row.created_at, loaded.instance)

    async def models_of(self, function_id: str) -> FunctionModels:
        """The models one stored function offers (its `pipes()` evaluated now), loading only it."""
        row = await self.store.functions.get(function_id)
        if row is None:
            raise UnknownModel(f"no function '{function_id}' is stored.")
        with self.bound():
            return await self._models_of(row, LISTING_TIMEOUT)

    async def _record_listing_errors(self, rows: list[FunctionRow], results: list[FunctionModels]) -> None:
        for row, result in zip(rows, results):
            if result.error == row.load_error:
                continue
            # A load failure has already deactivated the row and kept the full traceback.
            current = await self.store.functions.get(row.id)
            if current is not None and current.is_active and current.load_error != result.error:
                await self.store.functions.set_error(row.id, result.error)

    # -- invocation ---------------------------------------------------------------------
    async def function_for_model(self, model_id: str, *, direct: bool = False) -> FunctionRow:
        """The active pipe function serving `model_id`; UnknownModel or FunctionDisabled.

        A manifold's bare id is refused, listing its models, as Open WebUI's chat refuses a
        model it does not list; `direct` routes it to the function anyway, as Open WebUI's
        `generate_function_chat_completion` does (the conformance cases call it that way).
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
            await self._refuse_manifold(row)
        return row

    async def _refuse_manifold(self, row: FunctionRow) -> None:
        """A manifold's bare id is no model (Open WebUI lists only `id.sub`): say which are."""
        try:
            with self.bound():
                loaded = await self.load(row)
        except FunctionLoadError:
            return  # the call reports the load error, as it would anyway
        if not hasattr(loaded.instance, "pipes"):
            return
        with self.bound():
            listed = await self._models_of(row, LISTING_TIMEOUT)
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
        body = {**body, "model": model_id}
        metadata = {**(body.pop("metadata", None) or {}), **(metadata or {})}
        local_user = await self.store.users.local()
        user = user if user is not None else local_user
        # tuichat has one user: `user` may change what `__user__` shows, but the
        # user valves are always the local user's own.
        user_valves = await self.store.functions.get_user_valves(row.id, local_user["id"])
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


def _error_text(error: FunctionLoadError) -> str:
    return f"{error}\n\n{error.detail}".rstrip() if error.detail else str(error)
