"""The chat app's flows, driven with Pilot against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.helpers import (
    chat_app,
    chat_with,
    finished,
    pick,
    restyles,
    screen_lines,
    send,
    stored,
    until,
    with_pipe,
)
from tuichat.ui.chat.panes import ACTIVITY_OPEN
from tuichat.ui.screens.event_call import ConfirmationDialog, InputDialog
from tuichat.ui.screens.model_picker import ModelPicker
from tuichat.ui.screens.prompts import ConfirmScreen, TextPromptScreen
from tuichat.ui.widgets.activity import ActivityPane
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.conversation import WINDOW, Conversation
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.user_message import UserMessage

SIZE = (100, 30)

HANGS = """
import asyncio

class Pipe:
    async def pipe(self, body):
        yield "partial answer"
        await asyncio.sleep(3600)
"""


async def test_send_streams_and_saves(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        await pick(pilot, "echo")
        assert screen.sub_title == "Echo"
        await send(pilot, screen, "hello there")
        view = await finished(pilot, screen)
        assert view.reply.content == "hello there" and view.reply.status == "done"
        assert [w.text for w in screen.query(UserMessage)][-1] == "hello there"
        assert screen.query_one(ChatList).option_count == 2  # the day's heading, the chat
        assert screen.title == "hello there"
    async with await stored(db_path) as store:
        [chat] = await store.chats.list()
        messages = await store.chats.messages(chat.id)
        assert [(m.role, m.content, m.status) for m in messages] == [("user", "hello there", "done"), ("assistant", "hello there", "done")]
        assert await store.settings.get("last_model") == "echo"


async def test_selecting_a_reply_restyles_none_of_its_widgets(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The selected reply is the one whose activity is listed: no style depends on it, so
    selecting one restyles none of its widgets (restyling a 12k-character reply's widgets
    took 0.4 s)."""
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        first = await chat_with(pilot, screen, "echo", "one **two** three\n\n- a\n- b")
        second = await chat_with(pilot, screen, "echo", "four")
        assert second.has_class("-selected") and not first.has_class("-selected")
        with restyles(app, monkeypatch) as restyled:
            await screen.select_reply(first)
            await pilot.pause()
        assert first.has_class("-selected") and not second.has_class("-selected")
        assert not [node for node in restyled if node is first or first in node.ancestors]
        assert not [node for node in restyled if node is second or second in node.ancestors]


async def test_events_fill_the_activity_pane(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        view = await chat_with(pilot, screen, "events", "tour")
        lines = [strip.text for strip in screen.query_one(ActivityPane).lines]
        text = "\n".join(lines)
        assert "[status] Starting the tour" in text and "[notification] warning: And this is a warning." in text
        assert all(line.startswith("+") for line in lines if line.startswith("+"))
        assert len(view.reply.sources) == 2 and view.reply.statuses[-1]["done"] is True


async def test_event_calls_open_dialogs_and_answer_the_pipe(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "ask")
        await send(pilot, screen, "hi")
        await until(pilot, lambda: isinstance(app.screen, ConfirmationDialog))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InputDialog))
        app.screen.query_one("Input").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"Zoe", "enter")

        def asks_for_password() -> bool:
            inputs = app.screen.query("Input") if isinstance(app.screen, InputDialog) else []
            return bool(inputs) and bool(inputs[0].password)  # type: ignore[attr-defined]

        await until(pilot, asks_for_password)
        await pilot.press(*"hunter2", "enter")
        await until(pilot, lambda: isinstance(app.screen, InputDialog) and bool(app.screen.query("Select")))
        await pilot.press("escape")
        view = await finished(pilot, screen)
        assert "Zoe" in view.reply.content and "7 characters" in view.reply.content
        calls = [e.data for e in view.reply.activity if e.kind == "call"]
        assert [c["reply"] for c in calls] == [True, "Zoe", {"masked": True}, False]  # the pipe got it; tuichat keeps none


async def test_escape_stops_a_hanging_reply_and_keeps_its_text(db_path: Path) -> None:
    await with_pipe(db_path, HANGS, "hangs")
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        await pick(pilot, "hangs")
        await send(pilot, screen, "go")
        replies = screen.query_one(Conversation).replies
        await until(pilot, lambda: bool(replies()) and "partial" in replies()[-1].shown_text)
        await pilot.press("escape")
        view = await finished(pilot, screen)
        assert view.reply.status == "stopped" and view.reply.content == "partial answer"
    async with await stored(db_path) as store:
        [chat] = await store.chats.list()
        reply = (await store.chats.messages(chat.id))[-1]
        assert (reply.content, reply.status) == ("partial answer", "stopped")


async def test_stopping_closes_an_open_dialog(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "ask")
        await send(pilot, screen, "hi")
        await until(pilot, lambda: isinstance(app.screen, ConfirmationDialog))
        screen.action_stop()
        view = await finished(pilot, screen)
        assert view.reply.status == "stopped"
        assert not any(isinstance(s, (ConfirmationDialog, InputDialog)) for s in app.screen_stack)


async def test_chats_new_switch_rename_delete(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "echo", "first chat")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: screen.chat is None)
        await send(pilot, screen, "second chat")
        await finished(pilot, screen)
        chats = screen.query_one(ChatList)
        assert chats.option_count == 3  # "Today" and the two chats
        chats.focus()
        await pilot.press("end", "enter")  # the oldest chat is last
        await until(pilot, lambda: screen.chat is not None and screen.chat.title == "first chat")
        assert [u.message_id is not None for u in screen.query(UserMessage)] == [True]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        app.screen.query_one("Input").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"Renamed", "enter")
        await until(pilot, lambda: screen.chat is not None and screen.chat.title == "Renamed")
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: screen.chat is None and chats.option_count == 2)
    async with await stored(db_path) as store:
        assert [c.title for c in await store.chats.list()] == ["second chat"]


async def test_panes_toggle_and_are_remembered(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        await pilot.press("f3")
        await pilot.pause()
        assert screen.has_class("-no-activity") and not screen.query_one(ActivityPane).display
        await pilot.press("f2", "f2")  # the first focuses the chat list, the second hides it
        assert screen.has_class("-no-sidebar")
    async with await stored(db_path) as store:
        assert await store.settings.get(ACTIVITY_OPEN) is False
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        assert screen.has_class("-no-activity") and screen.has_class("-no-sidebar")


async def test_copy_reply_uses_the_clipboard(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "manifold.reverse", "abc")
        await pilot.press("f5")  # the copy dialog: the whole reply is first
        await pilot.press("enter")
        await until(pilot, lambda: app.clipboard == "cba")


async def stored_chat(db_path: Path, pairs: int) -> str:
    """A chat of `pairs` questions and answers, stored in one transaction; its id."""
    async with await stored(db_path) as store:
        chat = await store.chats.create("long", model_id="echo")
        async with store.transaction():
            parent = None
            for n in range(pairs):
                user = await store.chats.add_message(chat.id, "user", f"question {n}", parent_id=parent)
                reply = await store.chats.add_message(chat.id, "assistant", f"answer {n}", model_id="echo", parent_id=user.id)
                parent = reply.id
    return chat.id


async def test_a_long_chat_mounts_only_its_last_window(db_path: Path) -> None:
    chat_id = await stored_chat(db_path, pairs=1000)
    async with chat_app(db_path, SIZE) as (_app, _pilot, screen):
        await screen.open_chat(chat_id)
        conversation = screen.query_one(Conversation)
        assert len(conversation.children) == WINDOW
        assert conversation.replies()[-1].reply.content == "answer 999"


async def test_pageup_in_the_prompt_scrolls_the_conversation(db_path: Path) -> None:
    chat_id = await stored_chat(db_path, pairs=15)
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        app.animation_level = "none"
        await screen.open_chat(chat_id)
        conversation, prompt = screen.query_one(Conversation), screen.query_one(Prompt)
        await until(pilot, lambda: conversation.max_scroll_y > 0 and conversation.scroll_y == conversation.max_scroll_y)
        bottom = conversation.scroll_y
        prompt.focus()
        await pilot.press("pageup")
        await until(pilot, lambda: conversation.scroll_y < bottom)
        await pilot.press("pagedown")
        await until(pilot, lambda: conversation.scroll_y == bottom)
        assert prompt.has_focus

        # A prompt taller than its box keeps PageUp for its own cursor.
        prompt.text = "\n".join(f"line {n}" for n in range(30))
        prompt.move_cursor((29, 0))
        await pilot.pause()
        await pilot.press("pageup")
        await pilot.pause()
        assert prompt.cursor_location[0] < 29
        assert conversation.scroll_y == conversation.max_scroll_y  # still at the end (the prompt grew)


SHOWS_REQUEST = """
import json

class Pipe:
    def pipe(self, body, __task__=None):
        if __task__ == "title_generation":
            return '{"title": "Named by the pipe"}'
        seen = [[m["role"], m["content"]] for m in body["messages"]]
        return json.dumps({"stream": body["stream"], "messages": seen})
"""


def seen(view: ReplyView) -> dict[str, object]:
    import json

    return json.loads(view.reply.content)  # type: ignore[no-any-return]


async def test_system_prompt_stream_toggle_and_title(db_path: Path) -> None:
    await with_pipe(db_path, SHOWS_REQUEST, "shows")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "shows")
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        await pilot.press(*"Be brief.", "enter")  # Enter saves, as in the prompt
        await pilot.press("ctrl+t")
        await send(pilot, screen, "hi")
        view = await finished(pilot, screen)
        assert seen(view) == {"stream": False, "messages": [["system", "Be brief."], ["user", "hi"]]}
        await until(pilot, lambda: screen.chat is not None and screen.chat.title == "Named by the pipe")
        assert screen.title == "Named by the pipe"
    async with await stored(db_path) as store:
        [chat] = await store.chats.list()
        assert (chat.title, chat.system_prompt, chat.stream) == ("Named by the pipe", "Be brief.", False)


async def test_regenerate_and_edit_resend_keep_versions(db_path: Path) -> None:
    await with_pipe(db_path, SHOWS_REQUEST, "shows")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "shows", "one")
        await send(pilot, screen, "two")
        await finished(pilot, screen)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: screen.streaming or len(screen.query(UserMessage)) == 2)
        view = await finished(pilot, screen)
        assert [m[1] for m in seen(view)["messages"]][-1] == "two"  # type: ignore[index]
        await until(pilot, lambda: "shows  ‹ 2/2 ›" in "\n".join(screen_lines(app)))  # the new reply is version 2
        await pilot.press("ctrl+l")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        app.screen.query_one("TextArea").text = "two, edited"  # type: ignore[attr-defined]
        await pilot.press("enter")  # Enter sends, as in the prompt
        await until(pilot, lambda: any(u.text == "two, edited" for u in screen.query(UserMessage)))
        view = await finished(pilot, screen)
        assert seen(view)["messages"][-1] == ["user", "two, edited"]  # type: ignore[index]
        await until(pilot, lambda: "two, edited\n‹ 2/2 ›" in "\n".join(u.shown.plain for u in screen.query(UserMessage)))
        # alt+left on the reply: its message has an earlier version, shown with its newest reply.
        await until(pilot, lambda: screen.version_target() is not None)  # the re-opened chat's reply is selected
        await pilot.press("alt+left")
        await until(pilot, lambda: [u.shown.plain for u in screen.query(UserMessage)][-1] == "two\n‹ 1/2 ›")
        assert "shows  ‹ 2/2 ›" in "\n".join(screen_lines(app))
        await until(pilot, lambda: screen.version_target() is not None)
        await pilot.press("alt+left")  # the reply's own earlier version now
        await until(pilot, lambda: "shows  ‹ 1/2 ›" in "\n".join(screen_lines(app)))
    async with await stored(db_path) as store:
        [chat] = await store.chats.list()
        messages = await store.chats.messages(chat.id)
        assert [(m.role, m.content) for m in messages][::2] == [("user", "one"), ("user", "two")]  # the branch shown last
        assert len(await store.chats.all_messages(chat.id)) == 7  # nothing was lost


async def test_search_opens_the_matching_chat(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "echo", "pelicans fly south")
        await pilot.press("ctrl+n")
        await send(pilot, screen, "something else")
        await finished(pilot, screen)
        await pilot.press("ctrl+f")
        from tuichat.ui.screens.search import SearchScreen

        await until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"pelic")
        await until(pilot, lambda: bool(app.screen.hits))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: screen.chat is not None and "pelicans" in screen.chat.title)


async def test_export_writes_markdown(db_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "echo", "export me")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        app.screen.query_one("Input").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, target.exists)
    text = target.read_text()
    assert "export me" in text and text.startswith("# ")


async def test_keymap_remaps_by_binding_id(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUICHAT_KEYMAP", "model.pick=f11")
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        await pilot.press("f11")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))


async def test_the_command_palette_offers_what_applies_now(db_path: Path) -> None:
    await with_pipe(db_path, HANGS, "hangs")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        def titles() -> set[str]:
            return {command.title for command in app.get_system_commands(screen)}

        assert {"Regenerate", "Search", "System prompt", "Stream on/off", "Model"} <= titles()
        assert not {"Stop", "Export", "Rename", "Delete"} & titles()  # nothing streams, no chat yet
        await pick(pilot, "hangs")
        await send(pilot, screen, "go")
        await until(pilot, lambda: screen.streaming)
        assert {"Stop", "Export", "Rename"} <= titles()
        assert not {"Regenerate", "Edit last", "Delete"} & titles()  # not while a reply streams
        await pilot.press("escape")
        await finished(pilot, screen)
        assert "Stop" not in titles() and {"Regenerate", "Delete", "Export"} <= titles()
