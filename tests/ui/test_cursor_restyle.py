"""Reading keys restyle the widget they mark, not what is inside it: the message cursor
(ctrl+up / ctrl+down) and the conversation's focus (Tab). Textual restyles a widget's whole
subtree on a class or focus change, 0.6 s for a 12,000-character reply's 640 widgets; the
screen must still show what a full restyle shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.dom import DOMNode
from textual.widget import Widget

from tests.ui.helpers import chat_app, finished, pick, restyles, send, settled
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.user_message import UserMessage

SIZE = (100, 30)
ANSWER = "One **two** three.\n\n- a\n- b\n\n```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"


async def echoed(pilot: Any, screen: ChatScreen, text: str) -> ReplyView:
    """`text` typed (ctrl+j between lines) and sent to the echo pipe; its reply, finished."""
    await pick(pilot, "echo")
    lines = text.split("\n")
    for line in lines[:-1]:
        await pilot.press(*line, "ctrl+j")
    await send(pilot, screen, lines[-1])
    return await finished(pilot, screen)


def inside(nodes: list[DOMNode], widget: Widget) -> list[DOMNode]:
    return [node for node in nodes if widget in node.ancestors]


async def as_fully_restyled(app: App[Any], pilot: Any) -> tuple[str, str]:
    """The screen as painted, then after every widget has been restyled and repainted (each
    once nothing changes any more: a pause alone could catch the cursor's repaint midway)."""
    for widget in app.screen.query("Input, TextArea"):  # a text cursor's blink is timing, not style
        widget.cursor_blink = False  # type: ignore[attr-defined]
    painted = await settled(pilot, app.export_screenshot)
    app.update_styles(app.screen)
    app.screen.refresh(layout=True)
    return painted, await settled(pilot, app.export_screenshot)


async def test_the_cursor_restyles_only_the_messages_it_leaves_and_lands_on(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        first = await echoed(pilot, screen, ANSWER)
        await send(pilot, screen, "last")
        await finished(pilot, screen)
        width = first.query_one("Markdown").content_region.width
        before = app.export_screenshot()
        with restyles(app, monkeypatch) as restyled:
            await pilot.press("ctrl+up", "ctrl+up")  # the message sent last, then the first reply
            await pilot.pause()
        [cursor] = screen.query(".-cursor")
        assert cursor is first
        assert not inside(restyled, first), "a widget inside the reply was restyled"
        assert [node for node in restyled if isinstance(node, (ReplyView, UserMessage))] == [
            screen.query(UserMessage).last(), screen.query(UserMessage).last(), first
        ]  # marked, unmarked, marked
        assert first.query_one("Markdown").content_region.width == width  # the mark takes no room
        painted, restyled_screen = await as_fully_restyled(app, pilot)
        assert painted != before  # the cursor shows
        assert painted == restyled_screen


async def test_the_cursor_on_a_message_sent_paints_what_a_full_restyle_paints(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await echoed(pilot, screen, ANSWER)
        await pilot.press("ctrl+up")
        [cursor] = screen.query(".-cursor")
        assert isinstance(cursor, UserMessage)
        painted, restyled = await as_fully_restyled(app, pilot)
        assert painted == restyled


async def test_focusing_the_conversation_restyles_none_of_its_messages(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        reply = await echoed(pilot, screen, ANSWER)
        conversation = screen.query_one(Conversation)
        with restyles(app, monkeypatch) as restyled:
            await pilot.press("tab")
            await pilot.pause()
        assert app.focused is conversation and conversation in restyled
        assert not inside(restyled, reply)
        painted, fully = await as_fully_restyled(app, pilot)
        assert painted == fully
        with restyles(app, monkeypatch) as restyled:
            await pilot.press("escape")
            await pilot.pause()
        assert app.focused is not conversation and conversation in restyled
        assert not inside(restyled, reply)
