"""Open WebUI's background tasks in the TUI: after a reply the chat's pipe is asked for
follow-ups (shown under the reply, ctrl+b sends one), and a new chat for its title and tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.helpers import chat_app, chat_with, finished, opens, screen_lines, stored, until
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.ui.screens.follow_ups import FollowUpScreen
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.conversation import Conversation

TASKER = '''
class Pipe:
    def pipe(self, body, __task__=None):
        if __task__ == "follow_up_generation":
            return '{"follow_ups": ["Tell me more about \\\\u001b]52;c;x\\\\u0007owls", "Why?"]}'
        if __task__ == "title_generation":
            return '{"title": "Owls at night"}'
        if __task__ == "tags_generation":
            return '{"tags": ["Nature", "Birds"]}'
        return "reply to: " + body["messages"][-1]["content"]
'''


async def test_follow_ups_show_under_the_reply_and_ctrl_b_sends_one(db_path: Path) -> None:
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            await FunctionLibrary(host).add(TASKER, function_id="tasker")
    async with chat_app(db_path, (170, 30)) as (app, pilot, screen):  # wide: the footer shows ^b
        view = await chat_with(pilot, screen, "tasker", "owls")
        await until(pilot, lambda: view.reply.follow_ups == ["Tell me more about \x1b]52;c;x\x07owls", "Why?"])
        await until(pilot, lambda: screen.chat is not None and screen.chat.title == "Owls at night")
        chats = screen.query_one(ChatList)  # the chat list shows the tags (cut to its width on screen)
        await until(pilot, lambda: "tasker · #Natur" in str(chats.get_option(screen.chat.id).prompt))
        await pilot.pause(0.2)
        text = "\n".join(screen_lines(app))
        assert "Follow-ups:" in text and "› Why?" in text
        assert "\x1b" not in text and "␛]52;c;x␇owls" in text  # a model's words are shown, never obeyed
        assert "^b Follow-ups" in text  # the footer offers it for the selected reply
        picker = await opens(pilot, "ctrl+b", FollowUpScreen)
        assert "2  Why?" in "\n".join(screen_lines(app)) and picker.suggestions[1] == "Why?"
        await pilot.press("2")
        await until(pilot, lambda: len(screen.query_one(Conversation).replies()) == 2)
        second = await finished(pilot, screen)
        assert second.reply.content == "reply to: Why?"
        await until(pilot, lambda: len(second.reply.follow_ups) == 2)  # every reply gets them
        assert screen.query_one("Prompt").text == ""  # the follow-up went as it is, not through the prompt
    async with await stored(db_path) as store:
        chat = (await store.chats.list())[0]
        assert await store.tags.of(chat.id) == ["Nature", "Birds"]  # the first exchange only
        replies = [m for m in await store.chats.messages(chat.id) if m.role == "assistant"]
        assert [r.extra.get("follow_ups") for r in replies] == [["Tell me more about \x1b]52;c;x\x07owls", "Why?"]] * 2


async def test_ctrl_b_is_offered_only_for_a_reply_with_follow_ups(db_path: Path) -> None:
    async with await stored(db_path) as store:
        await store.settings.set("follow_up_generation", False)
        async with PipeHost(store) as host:
            await FunctionLibrary(host).add(TASKER, function_id="tasker")
    async with chat_app(db_path, (100, 30)) as (app, pilot, screen):
        view = await chat_with(pilot, screen, "tasker", "owls")
        await until(pilot, lambda: screen.chat is not None and screen.chat.title == "Owls at night")
        assert view.reply.follow_ups == [] and not any(w.display for w in screen.query("#follow_ups"))
        assert "Follow-ups" not in "\n".join(screen_lines(app))
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not isinstance(app.screen, FollowUpScreen)


BLOCKING_TASKS = '''
import time

class Pipe:
    def pipe(self, body, __task__=None):
        if __task__ is not None:
            time.sleep(60)  # blocks the host's event loop, as it would block Open WebUI's server
        return "reply to: " + body["messages"][-1]["content"]
'''
SLOW_TASKS = '''
import asyncio

class Pipe:
    async def pipe(self, body, __task__=None):
        if __task__ is not None:
            await asyncio.sleep(60)  # a slow model: the host is free meanwhile
        return "reply to: " + body["messages"][-1]["content"]
'''


@pytest.mark.parametrize("source", [BLOCKING_TASKS, SLOW_TASKS], ids=["blocking", "slow"])
async def test_a_message_sent_while_a_task_runs_is_answered(db_path: Path, source: str) -> None:
    """The task gives way; cancelled once (twice would kill the host, failing the message)."""
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            await FunctionLibrary(host).add(source, function_id="slow")
    async with chat_app(db_path, (100, 30)) as (app, pilot, screen):
        await chat_with(pilot, screen, "slow", "one")
        await until(pilot, lambda: bool(screen.workers._workers) and any(
            w.group == "background" and not w.is_finished for w in screen.workers._workers
        ))  # fmt: skip
        await pilot.press(*"two", "enter")
        await until(pilot, lambda: len(screen.query_one(Conversation).replies()) == 2)
        second = await finished(pilot, screen)
        assert (second.reply.content, second.reply.status) == ("reply to: two", "done")
        assert not app._notifications  # no "the pipe process was restarted"
