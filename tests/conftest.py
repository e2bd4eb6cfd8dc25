"""Shared fixtures: a real SQLite store in a temp dir and a pipe host on it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.test_tmux_e2e import Terminal

from tests.local_host import LocalHost
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tuichat.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(db_path)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def host(store: Store) -> AsyncIterator[PipeHost]:
    opened = PipeHost(store)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def library(host: PipeHost) -> FunctionLibrary:
    return FunctionLibrary(host)


@pytest.fixture
def package_name() -> str:
    return f"tuichat_testpkg_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def local_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make pip look only at tmp_path for packages."""
    monkeypatch.setenv("PIP_PACKAGE_INDEX_OPTIONS", f"--no-index --find-links {tmp_path}")
    monkeypatch.delenv("PIP_OPTIONS", raising=False)
    monkeypatch.delenv("TUICHAT_OFFLINE", raising=False)
    return tmp_path


@pytest.fixture
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    async def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"pip must not run: {args}")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", refuse)
    yield


@pytest.fixture
def local_host(store: Store) -> LocalHost:
    """The engine in this process: for tests that share live objects with the pipe."""
    return LocalHost(store)


@pytest.fixture
def local_library(local_host: LocalHost) -> FunctionLibrary:
    return FunctionLibrary(local_host)  # type: ignore[arg-type]


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A tmux server of its own (tests/test_tmux_e2e.py's `Terminal`), killed after the test."""
    from tests.test_tmux_e2e import TMUX, Terminal

    assert TMUX is not None
    term = Terminal(TMUX)
    try:
        yield term
    finally:
        term.kill()
