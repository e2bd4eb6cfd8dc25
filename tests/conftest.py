"""Shared fixtures: a real SQLite store in a temp dir and a pipe host on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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
def host(store: Store) -> PipeHost:
    return PipeHost(store)


@pytest.fixture
def library(host: PipeHost) -> FunctionLibrary:
    return FunctionLibrary(host)
