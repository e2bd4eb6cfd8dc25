"""The engine in the test process, behind `PipeHost`'s API.

Most tests go through the real host process (the `host` fixture). A few share live
objects with the pipe under test (an asyncio.Event it waits on, a module the test
injects, the loaded instance itself): those need the pipe in their own process, so they
use this. It is exactly what the host process runs, minus the process.
"""

from __future__ import annotations

from typing import Any

from tuichat.runtime.engine import PipeEngine
from tuichat.runtime.errors import UnknownModel
from tuichat.runtime.invocation.invoke import EventCallHandler, Invocation
from tuichat.runtime.listing import LISTING_TIMEOUT, ModelListing
from tuichat.runtime.models import FunctionModels
from tuichat.runtime.records import StoreRecords
from tuichat.store import FunctionRow, Store


class LocalHost:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.records = StoreRecords(store)
        self.engine = PipeEngine(self.records)
        self.session_id = self.engine.session_id
        # What tests reach into: the engine's own cache, loads, state and compat binding.
        self.cache = self.engine.cache
        self.load = self.engine.load
        self.bound = self.engine.bound
        self.app_state = self.engine.app_state

    async def list_models(self, timeout: float = LISTING_TIMEOUT) -> ModelListing:
        return await self.engine.list_models(timeout)

    async def function_for_model(self, model_id: str, *, direct: bool = False) -> FunctionRow:
        return await self.engine.function_for_model(model_id, direct=direct)

    async def models_of(self, function_id: str) -> FunctionModels:
        row = await self.store.functions.get(function_id)
        if row is None:
            raise UnknownModel(f"no function '{function_id}' is stored.")
        return await self.engine.models_of(row)

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
        return await self.engine.invoke(model_id, body, metadata=metadata, user=user, event_call=event_call, direct=direct)

    async def check_load(self, function_id: str, content: str, source: str | None = None) -> dict[str, Any]:
        return await self.engine.check_load(function_id, content, source)

    async def forget(self, function_id: str) -> None:
        self.engine.cache.forget(function_id)

    async def close(self) -> None:
        pass
