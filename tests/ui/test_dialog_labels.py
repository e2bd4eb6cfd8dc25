"""What the dialogs say: the system prompt's placeholder means something (it read "None"), and
the pipe import dialog's button says Import (it said Save)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Button, TextArea

from tests.ui.helpers import chat_app, open_pipes, until
from tuichat.ui.screens.prompts import TextPromptScreen

SIZE = (100, 30)


async def test_system_prompt_placeholder_says_what_an_empty_one_means(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        placeholder = str(app.screen.query_one(TextArea).placeholder)
        assert placeholder != "None" and "no system prompt" in placeholder.lower()


async def test_the_import_dialog_button_says_import(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        await open_pipes(pilot)
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert str(app.screen.query_one("#save", Button).label) == "Import"
        assert "Enter import" in "".join(str(w.render()) for w in app.screen.query(".dialog--keys"))
