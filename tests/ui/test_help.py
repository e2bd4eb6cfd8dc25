"""F1 (and `?` outside a text field) opens tuichat's own keys, by screen, as they are bound now
(remapped ones too); Esc closes it. The chosen theme is remembered across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.helpers import chat_app, screen_lines, until
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.prompt import Prompt

SIZE = (100, 30)


def help_text(app: object) -> str:
    from tuichat.ui.screens.help import HelpScreen

    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, HelpScreen)
    return screen.text


async def test_f1_shows_the_apps_keys_by_screen_and_esc_closes(db_path: Path) -> None:
    from tuichat.ui.screens.help import HelpScreen

    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = help_text(app)
        for section in ("Chat", "Prompt", "Pipes screen", "Pipe editor", "Dialogs", "Everywhere"):
            assert f"\n{section}\n" in f"\n{text}", section
        assert "ctrl+f" in text and "Search" in text and "f9" in text and "Export" in text
        assert "enter" in text.lower() and "Send" in text
        assert any("Keys" in line for line in screen_lines(app))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_help_shows_remapped_keys(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tuichat.ui.screens.help import HelpScreen

    monkeypatch.setenv("TUICHAT_KEYMAP", "chat.search=f11")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        [line] = [line for line in help_text(app).splitlines() if "Search every chat" in line or line.strip().endswith("Search")]
        assert "f11" in line and "ctrl+f" not in line


async def test_question_mark_types_in_the_prompt_and_opens_help_elsewhere(db_path: Path) -> None:
    from tuichat.ui.screens.help import HelpScreen

    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pilot.press("?")
        assert screen.query_one(Prompt).text == "?"
        assert isinstance(app.screen, ChatScreen)
        screen.query_one(Conversation).focus()
        await pilot.press("?")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_the_theme_is_remembered(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        assert app.theme != "nord"
        app.theme = "nord"
        await until(pilot, lambda: app.store.settings is not None)
        await pilot.pause()
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        assert app.theme == "nord"
