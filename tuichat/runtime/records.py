"""Where the engine gets function rows and records their failures (`FunctionRecords`): the
store, read by the app, which answers the host process's questions about it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from tuichat.store.functions import FunctionRow

__all__ = ["FunctionRecords", "StoreRecords"]


class FunctionRecords(Protocol):
    """The stored functions the engine reads and the failures it records (the app's store)."""

    path: Path  # the database file the `open_webui` stand-ins open (tuichat.store.sync)

    async def pipe_rows(self) -> list[FunctionRow]: ...

    async def row(self, function_id: str) -> FunctionRow | None: ...

    async def local_user(self) -> dict[str, Any]: ...

    async def user_valves(self, function_id: str, user_id: str) -> dict[str, Any]: ...

    async def deactivate(self, function_id: str, error: str) -> None: ...

    async def set_error(self, function_id: str, error: str | None) -> None:
        """Keep a listing error on a row still active whose error differs."""
        ...


class StoreRecords:
    """`FunctionRecords` on an open store: the app's side of the host process's requests,
    and an engine run in-process (tests that reach into loaded instances)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.path: Path = store.path

    async def pipe_rows(self) -> list[FunctionRow]:
        return list(await self.store.functions.list(type="pipe"))

    async def row(self, function_id: str) -> FunctionRow | None:
        return await self.store.functions.get(function_id)

    async def local_user(self) -> dict[str, Any]:
        return dict(await self.store.users.local())

    async def user_valves(self, function_id: str, user_id: str) -> dict[str, Any]:
        return dict(await self.store.functions.get_user_valves(function_id, user_id))

    async def deactivate(self, function_id: str, error: str) -> None:
        await self.store.functions.update(function_id, is_active=False, load_error=error)

    async def set_error(self, function_id: str, error: str | None) -> None:
        current = await self.store.functions.get(function_id)
        if current is not None and current.is_active and current.load_error != error:
            await self.store.functions.set_error(function_id, error)
