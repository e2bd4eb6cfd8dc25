"""The runtime a front end works with, started the same way by the CLI and the TUI."""

from __future__ import annotations

from dataclasses import dataclass

from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    """The open store, the pipe host on it, and the function library on the host."""

    store: Store
    host: PipeHost
    library: FunctionLibrary

    @classmethod
    async def start(cls, store: Store) -> Services:
        """The host and library for an open store; a new store gets the example pipes."""
        host = PipeHost(store)
        library = FunctionLibrary(host)
        await library.seed_examples()
        return cls(store, host, library)

    async def close(self) -> None:
        """Stop the pipe host process (it is killed: quitting never waits for a pipe)."""
        await self.host.close()
