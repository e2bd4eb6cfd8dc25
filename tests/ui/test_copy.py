"""F5 copies the selected message (any message: ctrl+up / ctrl+down move the cursor) or one of
its code blocks, or writes it to a file; inside tmux it says when tmux drops the copy and how to
let it through (before: F5 copied the last reply only and said "copied" whatever happened)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.helpers import chat_app, chat_with, finished, send, until, with_pipe
from tuichat.ui.clipboard import TMUX_FIX
from tuichat.ui.screens.copy import CopyScreen
from tuichat.ui.screens.prompts import TextPromptScreen
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.user_message import UserMessage

SIZE = (100, 30)

TWO_BLOCKS = '''
class Pipe:
    def pipe(self, body):
        return "Two ways:\\n\\n```python\\nprint('one')\\n```\\n\\nor\\n\\n```sh\\necho two\\n```\\n"
'''


@pytest.fixture(autouse=True)
def _no_tmux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)


async def test_any_message_can_be_selected_and_copied(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "echo", "first")
        await send(pilot, screen, "second")
        await finished(pilot, screen)
        await pilot.press("ctrl+up", "ctrl+up")  # the second message sent, then the first reply
        await pilot.press("ctrl+up")  # the first message sent
        [cursor] = screen.query(".-cursor")
        assert isinstance(cursor, UserMessage) and cursor.text == "first"
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, CopyScreen))
        await pilot.press("enter")
        await until(pilot, lambda: app.clipboard == "first")
        await pilot.press("ctrl+down")
        assert screen.selected_reply is not None and screen.query(".-cursor").first() is screen.selected_reply


async def test_the_cursor_reaches_messages_folded_above_a_long_reply(db_path: Path) -> None:
    # A long reply streamed at the end folds the messages it pushed out of view; the cursor
    # moving onto one shows it and scrolls to it.
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "markdown", "first")
        await send(pilot, screen, "second")
        await finished(pilot, screen)
        conversation = screen.query_one(Conversation)
        await until(pilot, lambda: conversation.folded_above > 0)
        await pilot.press("ctrl+up", "ctrl+up", "ctrl+up")  # second, the first reply, first
        [cursor] = screen.query(".-cursor")
        assert isinstance(cursor, UserMessage) and cursor.text == "first"
        await until(pilot, lambda: cursor.display and conversation.region.contains_region(cursor.region))
        assert conversation.folded_above == 0


async def test_one_code_block_is_copied_or_written_to_a_file(db_path: Path, tmp_path: Path) -> None:
    await with_pipe(db_path, TWO_BLOCKS, "blocks")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "blocks", "how?")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, CopyScreen))
        dialog = app.screen
        assert isinstance(dialog, CopyScreen)
        labels = [item.label for item in dialog.items]
        assert labels[1:] == ["Code block 1 · python · 1 line: print('one')", "Code block 2 · sh · 1 line: echo two"]
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: app.clipboard == "echo two")

        target = tmp_path / "one.py"
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, CopyScreen))
        await pilot.press("down", "w")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert app.screen.query_one("Input").value == "~/tuichat-copy.py"  # type: ignore[attr-defined]
        app.screen.query_one("Input").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, target.exists)
        assert target.read_text() == "print('one')"


@pytest.fixture
def tmux_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real tmux server with its defaults, the app seen as running inside it."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    socket = tmp_path / "tmux.sock"
    subprocess.run(["tmux", "-S", str(socket), "-f", "/dev/null", "new-session", "-d", "-s", "keys-copy"], check=True)
    monkeypatch.setenv("TMUX", f"{socket},0,0")
    try:
        yield socket
    finally:
        subprocess.run(["tmux", "-S", str(socket), "kill-server"], check=False)


async def test_inside_tmux_with_its_default_the_copy_says_how_to_let_it_through(db_path: Path, tmux_server: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "echo", "hello")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, CopyScreen) and app.screen.path is not None)
        dialog = app.screen
        assert isinstance(dialog, CopyScreen) and dialog.path is not None
        assert not dialog.path.ok and "set-clipboard external" in dialog.path.note and TMUX_FIX in dialog.path.note
        await pilot.press("enter")
        await until(pilot, lambda: any("Not copied" in n.message for n in app._notifications))

        subprocess.run(["tmux", "-S", str(tmux_server), "set", "-g", "set-clipboard", "on"], check=True)
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, CopyScreen) and app.screen.path is not None)
        assert app.screen.path.ok  # type: ignore[attr-defined]
