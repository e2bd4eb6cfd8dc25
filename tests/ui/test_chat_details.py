"""Chat screen details, driven with Pilot: titles a pipe sets, follow-ups under a reply, the
activity pane's summaries and empty state, panes in small terminals, cursors without colour,
and the highlighter warmed in the background."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.ui.helpers import chat_app, chat_with, stored, until, with_pipe
from tuichat.runtime.reply.model import ActivityEntry
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.chat.panes import ACTIVITY_OPEN, SIDEBAR_OPEN
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.screens.prompts import TextPromptScreen
from tuichat.ui.widgets.activity import (
    NO_EVENTS,
    NO_REPLY_EVENTS,
    ActivityPane,
    describe,
)
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.prompt import Prompt

SIZE = (100, 30)
WIDE = (180, 40)

TITLED = """
class Pipe:
    async def pipe(self, body, __event_emitter__=None, __task__=None):
        if __task__:
            return ""  # no generated title: the event's title is the one shown
        await __event_emitter__({"type": "chat:title", "data": "Named by an event"})
        return "done"
"""

DETAILS = """
class Pipe:
    async def pipe(self, body, __event_emitter__=None):
        await __event_emitter__({"type": "status", "data": {"description": "Found {{count}} pages for {{searchQuery}}", "count": 3, "query": "owls", "done": True}})
        await __event_emitter__({"type": "source", "data": {
            "document": ["one", "two", "three"],
            "metadata": [{"source": "https://en.wikipedia.org/wiki/Owl", "name": "Owl"}, {"source": "b", "name": "Barn owl"}, {"source": "c"}],
            "source": {"name": "Wikipedia"},
        }})
        await __event_emitter__({"type": "files", "data": {"files": [{"type": "file", "name": "owls.pdf", "url": "/files/1"}, {"type": "image", "url": "data:image/png;base64,AAAA"}]}})
        await __event_emitter__({"type": "custom:thing", "data": {"x": 1}})
        return "owls"
"""


def pane_text(screen: object) -> list[str]:
    return [strip.text.rstrip() for strip in screen.query_one(ActivityPane).lines]  # type: ignore[attr-defined]


def chat_list_prompts(screen: object) -> list[str]:
    """The chat list's titles (each option's first line; day headings left out)."""
    chats = screen.query_one(ChatList)  # type: ignore[attr-defined]
    options = [chats.get_option_at_index(i) for i in range(chats.option_count)]
    return [str(option.prompt).split("\n")[0] for option in options if option.id is not None]


# -- 1. chat:title -----------------------------------------------------------------------
@asynccontextmanager
async def titled_chat(db_path: Path) -> AsyncIterator[tuple[TuichatApp, Pilot[Any], ChatScreen]]:
    """The app after "hello" was answered by the pipe that titles its chat with an event."""
    await with_pipe(db_path, TITLED, "titled")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "titled", "hello")
        yield app, pilot, screen


async def test_a_chat_title_event_renames_the_chat_on_screen_but_not_in_the_database(db_path: Path) -> None:
    async with titled_chat(db_path) as (app, pilot, screen):
        await pilot.pause()
        assert screen.title == "Named by an event"
        assert chat_list_prompts(screen) == ["Named by an event"]
        assert screen.chat is not None and screen.chat.title == "hello"  # the stored title
        chat_id = screen.chat.id
        # Still shown after opening another chat and coming back (in this session).
        await pilot.press("ctrl+n")
        await until(pilot, lambda: screen.chat is None)
        assert screen.title == "New chat" and chat_list_prompts(screen) == ["Named by an event"]
        await screen.open_chat(chat_id)
        assert screen.title == "Named by an event"
        # A rename is stored and replaces the shown title.
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert app.screen.query_one("Input").value == "Named by an event"  # type: ignore[attr-defined]
        app.screen.query_one("Input").value = "Mine"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: screen.title == "Mine")
        assert chat_list_prompts(screen) == ["Mine"]
    async with await stored(db_path) as store:
        assert [c.title for c in await store.chats.list()] == ["Mine"]


async def test_the_stored_title_stays_when_a_pipe_sets_one(db_path: Path) -> None:
    async with titled_chat(db_path) as (_app, pilot, screen):
        await until(pilot, lambda: screen.title == "Named by an event")
    async with await stored(db_path) as store:
        [chat] = await store.chats.list()
        assert chat.title == "hello"


# -- 2. follow-ups -------------------------------------------------------------------------
async def test_follow_ups_show_under_the_reply_live_and_stored(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        view = await chat_with(pilot, screen, "events", "tour")
        expected = "Follow-ups:\n  › What does a hidden status do?\n  › How do I ask the user a question?"
        live = view.query_one("#follow_ups", Static)
        assert str(live.content) == expected and live.display
        assert screen.chat is not None
        await screen.open_chat(screen.chat.id)
        [again] = screen.query_one(Conversation).replies()
        assert again is not view
        shown = again.query_one("#follow_ups", Static)
        assert str(shown.content) == expected and shown.display


async def test_a_reply_without_follow_ups_has_no_follow_up_line(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        view = await chat_with(pilot, screen, "echo", "hi")
        assert not any(w.display for w in view.query("#follow_ups"))


# -- 3. activity summaries -------------------------------------------------------------------
async def test_the_activity_pane_summarises_sources_statuses_and_files(db_path: Path) -> None:
    await with_pipe(db_path, DETAILS, "details")
    async with chat_app(db_path, WIDE) as (_app, pilot, screen):
        await chat_with(pilot, screen, "details", "owls")
        # Without the "+  0.01s" time; the call record may wrap onto more lines.
        lines = [line.split("s ", 1)[1] for line in pane_text(screen) if line.startswith("+")]
        assert lines[0].startswith("[request] details: dunders ")  # the call record comes first
        assert lines[1:] == [
            "[status] Found 3 pages for owls (done)",
            '[source] 3 documents from "Wikipedia": Owl, Barn owl, c',
            "[files] 2 files: owls.pdf (file), data:image/png (image)",
            '[custom:thing] {"x": 1}',
        ]


def test_source_and_file_summaries_name_at_most_three_and_keep_odd_events_raw() -> None:
    def line(event: object) -> str:
        return describe(ActivityEntry(0.0, "event", event)).plain.split("s ", 1)[1]

    many = {"document": list("abcd"), "metadata": [{"name": n} for n in "abcd"], "source": {"id": "kb"}}
    assert line({"type": "citation", "data": many}) == '[citation] 4 documents from "kb": a, b, c…'
    assert line({"type": "source", "data": {"type": "code_execution", "id": "run-1"}}) == "[source] code execution run-1"
    assert line({"type": "source", "data": "odd"}) == '[source] "odd"'
    assert line({"type": "chat:message:files", "data": {"files": [{"type": "image"}]}}) == "[chat:message:files] 1 file: image"
    assert line({"type": "status", "data": {"action": "web_search", "done": False}}) == "[status] web_search (running)"


# -- 6. empty activity pane ----------------------------------------------------------------------
async def test_an_empty_activity_pane_says_so(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        chat = await store.chats.create("quiet", model_id="echo")
        question = await store.chats.add_message(chat.id, "user", "hi")
        await store.chats.add_message(chat.id, "assistant", "hi", model_id="echo", parent_id=question.id)
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        pane = screen.query_one(ActivityPane)
        assert pane_text(screen) == [NO_EVENTS]
        assert pane.styles.overflow_y == "auto"
        await screen.open_chat(chat.id)
        assert pane_text(screen) == [NO_REPLY_EVENTS]
        await chat_with(pilot, screen, "events", "tour")
        lines = pane_text(screen)
        assert lines[0].startswith("+") and NO_REPLY_EVENTS not in lines
        await pilot.pause()
        # More lines than rows: the scrollbar shows, and the lines wrapped before still fit.
        assert pane.max_scroll_y > 0 and pane.max_scroll_x == 0
        await pilot.press("ctrl+n")
        await until(pilot, lambda: screen.chat is None)
        assert pane_text(screen) == [NO_EVENTS]


# -- 5. panes in small terminals ------------------------------------------------------------------
async def test_a_small_terminal_hides_the_side_panes_until_asked(db_path: Path) -> None:
    async with chat_app(db_path, (80, 24)) as (_app, pilot, screen):
        await pilot.pause()
        chats, activity = screen.query_one(ChatList), screen.query_one(ActivityPane)
        conversation = screen.query_one(Conversation)
        assert not chats.display and not activity.display
        assert conversation.region.width >= 78 and conversation.region.height >= 14
        assert screen.query_one(Prompt).region.bottom <= 23
        await pilot.press("f2")
        await pilot.press("f3")
        await pilot.pause()
        assert chats.display and chats.region.width == 28
        assert activity.display and activity.region.height == 6  # smaller than the usual 8 rows
        chats.focus()
        await pilot.press("f2")  # on the focused list: hides it
        await pilot.pause()
        assert not chats.display
    async with await stored(db_path) as store:  # f2/f3 in a small terminal leave the stored choice
        assert await store.settings.get(SIDEBAR_OPEN) is None
        assert await store.settings.get(ACTIVITY_OPEN) is None


async def test_a_large_terminal_shows_the_panes_as_stored(db_path: Path) -> None:
    async with chat_app(db_path, (120, 40)) as (_app, pilot, screen):
        await pilot.pause()
        chats, activity = screen.query_one(ChatList), screen.query_one(ActivityPane)
        assert chats.display and activity.display and activity.region.height == 8
        await pilot.press("f2", "f2")  # the first focuses the chat list, the second hides it
        await pilot.pause()
        assert not chats.display
    async with await stored(db_path) as store:
        assert await store.settings.get(SIDEBAR_OPEN) is False
    async with chat_app(db_path, (120, 40)) as (_app, pilot, screen):
        assert not screen.query_one(ChatList).display and screen.query_one(ActivityPane).display


async def test_resizing_hides_and_restores_the_panes(db_path: Path) -> None:
    async with chat_app(db_path, (120, 40)) as (_app, pilot, screen):
        chats, activity = screen.query_one(ChatList), screen.query_one(ActivityPane)
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not chats.display and not activity.display)
        await pilot.press("f2")  # shown while small...
        await until(pilot, lambda: chats.display)
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: chats.display and activity.display)
        await pilot.resize_terminal(80, 24)  # ...until the terminal stops being small
        await until(pilot, lambda: not chats.display and not activity.display)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_conversation_and_prompt_fit(db_path: Path, size: tuple[int, int]) -> None:
    async with chat_app(db_path, size) as (_app, pilot, screen):
        await pilot.pause()
        for widget in screen.query("Conversation, Prompt, ChatList, ActivityPane"):
            if widget.display:
                assert widget.region.width > 0 and widget.region.height > 0
                assert widget.region.right <= size[0] and widget.region.bottom <= size[1]
        # The conversation keeps at least half the terminal's rows.
        assert screen.query_one(Conversation).region.height * 2 >= size[1]


# -- 7. cursors without colour -------------------------------------------------------------------
async def test_the_open_chat_and_the_focused_list_are_marked_without_colour(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with await Store.open(db_path) as store:
        await store.chats.create("older", model_id="echo")
        newer = await store.chats.create("newer", model_id="echo")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        assert app.no_color
        await screen.open_chat(newer.id)
        await pilot.pause()
        chats = screen.query_one(ChatList)

        def row_style(y: int) -> tuple[bool, bool]:
            segments = [s for s in chats.render_line(y) if s.text.strip()]
            style = segments[0].style
            assert style is not None
            return bool(style.bold), bool(style.underline)

        # Row 0 is the day's heading; each chat has two rows, its title and when / which model.
        assert row_style(1) == (True, False)  # the open chat ("newer"), list not focused: bold
        assert row_style(3) == (False, False)
        chats.focus()
        await pilot.pause()
        assert row_style(1) == (True, True)  # the cursor of the focused list: bold and underlined
        assert chats.styles.border_title_style.bold


# -- 8. highlighter warmed after start ------------------------------------------------------------
async def test_code_highlighting_is_warmed_in_a_thread_after_start(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import textual.highlight

    warmed: list[tuple[str | None, bool]] = []
    real = textual.highlight.highlight

    def spy(code: str, **kwargs: object) -> object:
        warmed.append((kwargs.get("language"), threading.current_thread() is threading.main_thread()))  # type: ignore[arg-type]
        return real(code, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(textual.highlight, "highlight", spy)
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        await until(pilot, lambda: ("python", False) in warmed)
        assert all(not on_main for _, on_main in warmed)
        assert screen.listing is not None  # the models were listed first
