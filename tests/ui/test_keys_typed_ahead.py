"""Keys typed while a dialog or screen is still opening go to it, never to the prompt.

A terminal hands over what was typed quickly in one read, so the app gets the key that opens
a dialog and the keys after it at once. `burst` sends them that way (no pause between them);
before the key gate, F9 then a path and Enter sent the path to the pipe as a message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from tests.ui.helpers import chat_app, pick, until
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.screens.model_picker import ModelPicker
from tuichat.ui.screens.prompts import ConfirmScreen, TextPromptScreen
from tuichat.ui.screens.search import SearchScreen
from tuichat.ui.widgets.prompt import Prompt

SIZE = (100, 30)


async def burst(pilot: Pilot[Any], *keys: str) -> None:
    """Press `keys` as one read from a terminal delivers them: all queued before any is handled."""
    app = pilot.app
    driver = app._driver
    assert driver is not None
    gate = app.keys  # type: ignore[attr-defined]
    expected = gate.handed_on + len(keys)
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        driver.send_message(event)
    await until(pilot, lambda: gate.handed_on == expected and gate.idle)
    await pilot.pause()


async def chat_with_one_message(pilot: Pilot[Any], screen: ChatScreen) -> int:
    await pick(pilot, "echo")
    await pilot.press(*"first", "enter")
    await until(pilot, lambda: screen.chat is not None and not screen.streaming)
    assert screen.chat is not None
    return len(await pilot.app.store.chats.messages(screen.chat.id))  # type: ignore[attr-defined]


async def nothing_sent(pilot: Pilot[Any], screen: ChatScreen, before: int) -> None:
    assert screen.chat is not None
    assert len(await pilot.app.store.chats.messages(screen.chat.id)) == before  # type: ignore[attr-defined]
    assert screen.query_one(Prompt).text == ""


async def test_export_path_typed_at_once_goes_to_the_export_dialog(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        before = await chat_with_one_message(pilot, screen)
        await burst(pilot, "f9", "ctrl+u", *"out.md", "enter")
        await until(pilot, lambda: (tmp_path / "out.md").exists())
        assert isinstance(app.screen, ChatScreen)
        await nothing_sent(pilot, screen, before)


async def test_rename_typed_at_once_renames(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        before = await chat_with_one_message(pilot, screen)
        await burst(pilot, "ctrl+r", *" two", "enter")
        await until(pilot, lambda: screen.chat is not None and screen.chat.title == "first two")
        await nothing_sent(pilot, screen, before)


async def test_model_filter_typed_at_once_picks_the_model(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        before = await chat_with_one_message(pilot, screen)
        await burst(pilot, "ctrl+o", *"events", "enter")
        await until(pilot, lambda: screen.model_id == "events")
        assert not isinstance(app.screen, ModelPicker)
        await nothing_sent(pilot, screen, before)


@pytest.mark.parametrize(
    ("key", "dialog", "keys", "typed"),
    [
        ("ctrl+f", SearchScreen, [*"zzz", "enter"], "zzz"),  # no hit: Enter opens nothing, the words stay
        ("ctrl+l", TextPromptScreen, ["ctrl+j", *"again"], "first\nagain"),  # edit the last message
    ],
)
async def test_keys_typed_at_once_stay_in_the_dialog(
    db_path: Path, key: str, dialog: type, keys: list[str], typed: str
) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        before = await chat_with_one_message(pilot, screen)
        await burst(pilot, key, *keys)
        assert isinstance(app.screen, dialog)
        field = app.screen.query_one("#text, Input")
        assert getattr(field, "text", None) == typed or getattr(field, "value", None) == typed
        await nothing_sent(pilot, screen, before)


async def test_system_prompt_typed_at_once_is_saved(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        before = await chat_with_one_message(pilot, screen)
        await burst(pilot, "f4", *"be brief", "enter")
        await until(pilot, lambda: screen.chat is not None and screen.chat.system_prompt == "be brief")
        await nothing_sent(pilot, screen, before)


async def test_delete_confirmation_takes_the_keys(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        before = await chat_with_one_message(pilot, screen)
        await burst(pilot, "f8", *"abc", "enter")  # Enter on the focused "No"
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert len(await app.store.chats.list()) == 1
        await nothing_sent(pilot, screen, before)


async def test_pipes_screen_then_import_dialog_typed_at_once(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        before = await chat_with_one_message(pilot, screen)
        await burst(pilot, "f7", "i", *"nowhere.py")
        assert isinstance(app.screen, TextPromptScreen)
        assert app.screen.query_one("Input").value.endswith("nowhere.py")  # type: ignore[attr-defined]
        await nothing_sent(pilot, screen, before)
