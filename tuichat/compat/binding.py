"""Which host the `open_webui` stand-ins serve: bound per context, never process-wide.

Pipes call `Users.get_user_by_id(...)` with nothing that says which tuichat it runs
in, and one process may run several hosts, each on its own database (tests do). So
a host binds itself, in a context variable, while it runs pipe code: as it loads,
lists and invokes functions. Tasks started from there inherit the binding, and so
do threads started with `asyncio.to_thread` or tuichat's `run_in_thread`, which run
in a copy of the context. A thread a pipe starts by other means does not.

Use outside any binding fails at use, with `NotInHost`: importing a stand-in never
needs a host.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tuichat.store.sync import SyncStore


class ModelHost(Protocol):
    """What `open_webui.utils.chat` needs from the host to let a pipe call another model.

    `request` is the `__request__` the calling pipe was given: it says which call the
    called model's events and event calls belong to.
    """

    async def has_model(self, model_id: str) -> bool:
        """Whether `model_id` is one of the host's models, listing them again if it is not known yet."""
        ...

    async def stream_model(
        self, request: object, model_id: str, body: dict[str, Any], *, metadata: dict[str, Any], user: dict[str, Any]
    ) -> AsyncIterator[str | bytes]:
        """Prepare a streaming call now, raising if the model cannot be called, and give
        its response body items; an error that cuts the stream raises NestedCallFailed."""
        ...

    async def model_response(
        self, request: object, model_id: str, body: dict[str, Any], *, metadata: dict[str, Any], user: dict[str, Any]
    ) -> Any:
        """Call without streaming: the response (normally a dict), or NestedCallFailed."""
        ...


class NestedCallFailed(Exception):
    """The called model raised; the message is its exception's."""


class NotInHost(RuntimeError):
    """An `open_webui` stand-in was used where no tuichat host is bound."""


@dataclass(frozen=True, slots=True)
class CompatHost:
    """Everything the stand-ins need from the host running the pipe."""

    tables: SyncStore  # tuichat's database, for `open_webui.models`
    data_dir: Path  # Open WebUI's DATA_DIR: uploads and cache live under it
    models: ModelHost  # for a pipe calling another model
    app: Callable[[], Any] | None = None  # `open_webui.main.app`, the host's (made when first asked for)


_current: ContextVar[CompatHost | None] = ContextVar("tuichat_compat_host", default=None)


@contextmanager
def bound(host: CompatHost) -> Iterator[None]:
    """Bind the stand-ins to `host` for the block (and the tasks and threads it starts)."""
    token = _current.set(host)
    try:
        yield
    finally:
        _current.reset(token)


def bind(host: CompatHost) -> None:
    """Bind the stand-ins to `host` for the rest of the current context.

    For a task that exists to run one pipe call: everything the task goes on to do
    is that call's, and no other task sees the binding.
    """
    _current.set(host)


def current() -> CompatHost:
    """The host bound here; NotInHost, saying why and what to do, when there is none."""
    host = _current.get()
    if host is None:
        raise NotInHost(
            "open_webui (tuichat's stand-in) was used outside a tuichat pipe host, so it cannot "
            "tell which tuichat database and data folder to use. tuichat binds it while it "
            "loads, lists and runs functions, for the tasks and the asyncio.to_thread threads "
            "started from there; a thread started otherwise must run in a copy of the caller's "
            "context (contextvars.copy_context().run)."
        )
    return host
