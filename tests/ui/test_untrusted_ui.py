"""Pipe output is untrusted, in the app (Pilot): a reply, its status, its notification, the
title it sets, the model's name and the function's frontmatter show their terminal control
sequences as pictures (`␛]52;…`), on every widget they reach, and nothing the compositor
paints holds a control character. (Textual drops BEL, backspace and CR itself but passes ESC
and C1 to the terminal: tests/test_tui_untrusted_e2e.py shows a real terminal obeys nothing.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from tests.test_untrusted import HOSTILE, no_controls
from tests.ui.helpers import chat_app, chat_with, open_pipes, pick, screen_lines, select, until, with_pipe
from tests.ui.test_editor import show_editor
from tuichat.ui.screens.model_picker import ModelPicker
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.workshop.function_detail import FunctionDetail

SIZE = (120, 40)


def painted(app: App[Any]) -> str:
    return "\n".join(screen_lines(app))


def notifications(app: App[Any]) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_reply_and_all_a_pipe_sets_show_control_sequences_as_pictures(db_path: Path) -> None:
    await with_pipe(db_path, HOSTILE, "hostile")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "Talk")
        assert screen.sub_title == "Talk ␛]0;PWNED␇"  # the model's name, from `pipes()`
        view = await chat_with(pilot, screen, "Talk", "hello")
        # The reply as it streamed, its first sequence split across two chunks.
        assert view.shown_text.startswith("start ␛]52;c;UFdORUQ=␇ mid ␛[2J␛[H\\x9b2J\\x9d0;PWNED\\x9c cr␍OVER ␛[6n")
        assert "end ✓ 漢字 🎉" in view.shown_text
        assert str(view.query_one("#status").content) == "busy ␛]0;PWNED␇"  # type: ignore[attr-defined]
        assert "note ␛]52;c;UFdORUQ=␇" in notifications(app)
        await until(pilot, lambda: screen.title == "Title ␛]0;PWNED␇")
        chats = screen.query_one(ChatList)
        assert str(chats.get_option_at_index(1).prompt).split("\n")[0] == "Title ␛]0;PWNED␇"  # (0: "Today")
        await pilot.pause()
        text = painted(app)
        assert "Title ␛]0;PWNED␇" in text and "start ␛]52;c;UFdORUQ=␇" in text
        assert no_controls(text)
        # The stored reply, opened again, is shown the same way.
        assert view.message_id is not None
        await screen.open_chat(screen.chat.id if screen.chat else None)
        await until(pilot, lambda: bool(screen.query("ReplyView")))
        stored = screen.query("ReplyView").last()
        assert stored.shown_text.startswith("start ␛]52;c;UFdORUQ=␇")  # type: ignore[attr-defined]
        # The model picker lists the name as shown.
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))
        await pilot.pause()
        assert "Talk ␛]0;PWNED␇  hostile.talk" in painted(app) and no_controls(painted(app))


async def test_the_pipes_screen_shows_a_hostile_frontmatter_as_pictures(db_path: Path) -> None:
    await with_pipe(db_path, HOSTILE, "hostile")
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        pipes = await open_pipes(pilot)
        select(pipes, "hostile")
        await until(pilot, lambda: pipes.current is not None and pipes.current.id == "hostile")
        await pilot.pause()
        detail = str(pipes.query_one(FunctionDetail).query_one("#detail-title").content)  # type: ignore[attr-defined]
        assert detail.startswith("Hostile ␛]0;PWNED␇ pipe") and "by evil␛[2J␛[H" in detail
        text = painted(app)
        assert "Talk ␛]0;PWNED␇" in text and no_controls(text)
        # The editor shows the source's own control characters too (its text stays exact).
        editor = await show_editor(pilot, "hostile")
        await pilot.pause()
        text = painted(app)
        assert "title: Hostile ␛]0;PWNED" in text and "author: evil␛[2J␛[H" in text and no_controls(text)
        assert editor.editor.text == HOSTILE


async def test_an_event_call_dialog_shows_what_the_pipe_asks_as_pictures() -> None:
    from tests.test_untrusted import CLEAR, TITLE
    from tests.ui.test_modals import hosted
    from tuichat.ui.screens.event_call import dialog_for

    dialog = dialog_for({"type": "input", "data": {
        "title": f"Name {TITLE}", "message": f"Who {CLEAR}?", "placeholder": f"p {TITLE}", "value": f"v {TITLE}",
    }})  # fmt: skip
    assert dialog is not None
    async with hosted(dialog) as (app, pilot):
        await pilot.pause()
        text = painted(app)
        assert "Name ␛]0;PWNED␇" in text and "Who ␛[2J␛[H?" in text and "v ␛]0;PWNED␇" in text
        assert no_controls(text)
