"""Snapshots of the chat path's screens at 80x24: the pipes screen listing filters, a model's
settings, and a chat's toggles over a chat whose header shows its toggles and params.
Regenerate with `pytest tests/ui/test_snapshots_chatpath.py --snapshot-update` (see
test_snapshots.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.helpers import open_pipes, ready, select, stored, until
from tests.ui.test_chat_settings import PAIR, with_pair
from tests.ui.test_snapshots import _settle
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.ui.app import TuichatApp
from tuichat.ui.screens.model_settings import ModelSettingsScreen
from tuichat.ui.screens.toggles import TogglesScreen

SIZE = (80, 24)
pytestmark = pytest.mark.usefixtures("fixed_clock")  # messages are shown with their time


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


async def _seed(db_path: Path) -> None:
    await with_pair(db_path)
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            await FunctionLibrary(host).add((PAIR / "footer_filter.py").read_text(), function_id="footer")
        await store.model_settings.save(
            "search", name="Search Pipe", base_model_id=None, meta={"filterIds": ["footer"]},
            params={"system": "Answer briefly.", "temperature": 0.3, "stop": ["END"]},
        )  # fmt: skip
        chat = await store.chats.create("Weather in Lyon", model_id="search", params={"temperature": 0.2, "max_tokens": 400})
        await store.chats.update(chat.id, filter_ids=["web_search"])
        await store.settings.set("last_model", "search")


def seeded(db_path: Path) -> Path:
    asyncio.run(_seed(db_path))
    return db_path


def test_pipes_screen_with_filters_80x24(snap_compare: Any, db_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_pipes(pilot)
        select(screen, "web_search")
        await _settle(pilot)

    assert snap_compare(TuichatApp(seeded(db_path)), terminal_size=SIZE, run_before=run_before)


def test_model_settings_80x24(snap_compare: Any, db_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_pipes(pilot)
        select(screen, "search")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelSettingsScreen) and pilot.app.screen.row is not None)
        await _settle(pilot)

    assert snap_compare(TuichatApp(seeded(db_path)), terminal_size=SIZE, run_before=run_before)


def test_chat_toggles_80x24(snap_compare: Any, db_path: Path) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await ready(pilot)
        chat = (await screen.store.chats.list())[0]
        await screen.open_chat(chat.id)
        await pilot.press("f10")
        await until(pilot, lambda: isinstance(pilot.app.screen, TogglesScreen))
        await _settle(pilot)

    assert snap_compare(TuichatApp(seeded(db_path)), terminal_size=SIZE, run_before=run_before)
