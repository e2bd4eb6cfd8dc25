"""Snapshots of a search hit and the help screen (see test_snapshots.py for how to update them)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.test_search_hit import search_and_open, seed
from tests.ui.test_snapshots import _settle
from tuichat.ui.app import TuichatApp

# Messages show their times: stored and shown at a fixed time (see conftest).
pytestmark = pytest.mark.usefixtures("fixed_clock")


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_search_hit_opens_at_the_match(snap_compare: Any, db_path: Path) -> None:
    asyncio.run(seed(db_path))

    async def open_hit(pilot: Pilot[Any]) -> None:
        await search_and_open(pilot, "pelicans")
        await _settle(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(100, 30), run_before=open_hit)


def test_help_80x24(snap_compare: Any, db_path: Path) -> None:
    from tests.ui.helpers import ready, until
    from tuichat.ui.screens.help import HelpScreen

    async def open_help(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.app.workers.wait_for_complete()
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await _settle(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=open_help)
