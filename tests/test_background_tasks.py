"""Open WebUI's background tasks after a reply: follow-ups (every reply), tags (first
exchange), as utils/middleware.py:background_tasks_handler and routers/tasks.py run them,
through a real pipe that answers each `__task__`."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from tests.local_host import LocalHost
from tuichat.runtime.background.after_reply import FollowUps, Tagged, Titled, after_reply
from tuichat.runtime.background.follow_ups import (
    DEFAULT_FOLLOW_UP_GENERATION_PROMPT_TEMPLATE,
    follow_up_prompt,
    parse_follow_ups,
)
from tuichat.runtime.background.prompt import render, truncate_middle
from tuichat.runtime.background.settings import FOLLOW_UPS, TAGS, TITLE, all_enabled
from tuichat.runtime.background.tags import DEFAULT_TAGS_GENERATION_PROMPT_TEMPLATE, parse_tags
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store

TASKER = """
import task_probe

class Pipe:
    def pipe(self, body: dict, __task__=None, __task_body__=None, __message_id__="absent", __chat_id__=None):
        task_probe.calls.append({"task": __task__, "body": body, "task_body": __task_body__,
                                 "message_id": __message_id__, "chat_id": __chat_id__})
        if __task__ is None:
            return "A reply about pelicans."
        return task_probe.answers.get(str(__task__), "no JSON here")
"""


@pytest.fixture
def probe() -> Iterator[types.SimpleNamespace]:
    namespace = types.SimpleNamespace(calls=[], answers={})
    sys.modules["task_probe"] = namespace  # type: ignore[assignment]
    yield namespace
    del sys.modules["task_probe"]


@pytest.fixture
async def tasker(local_library: FunctionLibrary, probe: types.SimpleNamespace) -> str:
    await local_library.add(TASKER, function_id="tasker")
    return "tasker"


async def a_chat(store: Store, model: str) -> tuple[str, str]:
    chat = await store.chats.create("New chat", model_id=model)
    await store.chats.add_message(chat.id, "user", "Tell me about pelicans")
    reply = await store.chats.add_message(chat.id, "assistant", "Pelicans <details>hidden</details>fish.", model_id=model)
    return chat.id, reply.id


async def outcomes(host: LocalHost, chat_id: str, reply_id: str, model: str, first: bool) -> list[Any]:
    return [o async for o in after_reply(host, chat_id, reply_id, model, first_exchange=first)]


async def test_the_first_exchange_gets_follow_ups_a_title_and_tags_in_open_webuis_order(
    local_host: LocalHost, tasker: str, probe: types.SimpleNamespace
) -> None:
    probe.answers = {
        "follow_up_generation": '{"follow_ups": ["What do they eat?", " What do they eat? ", "", "Where do they live?"]}',
        "title_generation": '{"title": "Pelicans"}',
        "tags_generation": 'Here: {"tags": ["Science", "Birds", "birds", "None"]}',
    }
    store = local_host.store
    chat_id, reply_id = await a_chat(store, tasker)
    got = await outcomes(local_host, chat_id, reply_id, tasker, True)
    assert [type(o) for o in got] == [FollowUps, Titled, Tagged]
    assert got[0] == FollowUps(reply_id, ["What do they eat?", "Where do they live?"])
    assert [c["task"] for c in probe.calls] == ["follow_up_generation", "title_generation", "tags_generation"]
    follow_up_call = probe.calls[0]
    # The task call: one user message, no stream, no message id (so no emitter), the task body.
    assert follow_up_call["body"]["stream"] is False and follow_up_call["message_id"] is None
    assert follow_up_call["task_body"]["message_id"] == reply_id and follow_up_call["chat_id"] == chat_id
    prompt = follow_up_call["body"]["messages"][0]["content"]
    assert "USER: Tell me about pelicans\nASSISTANT: Pelicans fish." in prompt  # <details> dropped
    assert (await store.chats.messages(chat_id))[-1].extra["follow_ups"] == ["What do they eat?", "Where do they live?"]
    assert (await store.chats.get(chat_id)).title == "Pelicans"
    assert await store.tags.of(chat_id) == ["Science", "Birds"]  # "birds" is Birds; "None" dropped
    assert await store.tags.chats_with("SCIENCE") == [chat_id]


async def test_later_replies_get_only_follow_ups_and_a_useless_answer_changes_nothing(
    local_host: LocalHost, tasker: str, probe: types.SimpleNamespace
) -> None:
    store = local_host.store
    chat_id, reply_id = await a_chat(store, tasker)
    await store.tags.set(chat_id, ["Kept"])
    assert await outcomes(local_host, chat_id, reply_id, tasker, False) == []  # "no JSON here"
    assert [c["task"] for c in probe.calls] == ["follow_up_generation"]
    assert "follow_ups" not in (await store.chats.messages(chat_id))[-1].extra
    probe.answers = {"tags_generation": '{"tags": ["ok", 3]}'}  # not all text: Open WebUI keeps the tags
    assert not [o for o in await outcomes(local_host, chat_id, reply_id, tasker, True) if isinstance(o, Tagged)]
    assert await store.tags.of(chat_id) == ["Kept"]


async def test_each_task_is_a_setting(local_host: LocalHost, tasker: str, probe: types.SimpleNamespace) -> None:
    store = local_host.store
    assert await all_enabled(store) == {"title": True, "tags": True, "follow-ups": True}  # Open WebUI's defaults
    for key in (FOLLOW_UPS, TAGS, TITLE):
        await store.settings.set(key, False)
    chat_id, reply_id = await a_chat(store, tasker)
    assert await outcomes(local_host, chat_id, reply_id, tasker, True) == []
    assert probe.calls == []


async def test_a_failing_or_missing_pipe_yields_nothing(local_host: LocalHost, tasker: str, probe: types.SimpleNamespace) -> None:
    store = local_host.store
    chat_id, reply_id = await a_chat(store, tasker)
    probe.answers = {"follow_up_generation": None}  # the pipe returns None: no answer
    assert await outcomes(local_host, chat_id, reply_id, tasker, False) == []
    assert await outcomes(local_host, chat_id, reply_id, "no_such_model", True) == []


def test_the_follow_up_prompt_keeps_the_first_user_message_and_the_last_four_cut_to_1000_characters() -> None:
    long = "a" * 600 + "b" * 600
    messages = [{"role": "user", "content": "first question"}] + [
        {"role": "assistant" if i % 2 else "user", "content": f"m{i}"} for i in range(1, 6)
    ] + [{"role": "assistant", "content": long}]
    prompt = follow_up_prompt(messages)
    history = prompt.split("<chat_history>\n")[1].split("\n</chat_history>")[0]
    # {{MESSAGES:END:5}} of [first user, m3, m4, m5, long]: all five.
    assert history.splitlines() == [
        "USER: first question", "ASSISTANT: m3", "USER: m4", "ASSISTANT: m5", "ASSISTANT: " + "a" * 498 + "..." + "b" * 499,
    ]  # fmt: skip
    assert prompt.startswith(DEFAULT_FOLLOW_UP_GENERATION_PROMPT_TEMPLATE.split("{{")[0])


def test_list_content_is_joined_text_and_the_tags_prompt_holds_six_messages() -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url"}, {"type": "text", "text": "here"}]}]
    assert "USER: look\nhere" in follow_up_prompt(messages)
    many = [{"role": "user", "content": f"m{i}"} for i in range(8)]
    rendered = render(DEFAULT_TAGS_GENERATION_PROMPT_TEMPLATE, many)
    assert "USER: m1" not in rendered and "USER: m2\n" in rendered and "USER: m7" in rendered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"follow_ups": ["a", "b", "c", "d", "e", "f"]}', ["a", "b", "c", "d", "e"]),
        ('{"follow_ups": ["' + "x" * 401 + '", "short"]}', ["short"]),
        ('{"follow_ups": ["a", 1]}', []),
        ('{"follow_ups": "a"}', []),
        ("[]", []),
        ("no json", []),
    ],
)
def test_parse_follow_ups_reads_as_open_webui(text: str, expected: list[str]) -> None:
    assert parse_follow_ups(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [('{"tags": ["A b", "a_B", "c"]}', ["A b", "c"]), ("{}", []), ('{"tags": "x"}', None), ("nope", None)],
)
def test_parse_tags_reads_as_open_webui(text: str, expected: list[str] | None) -> None:
    assert parse_tags(text) == expected


def test_truncate_middle_is_open_webuis_truncate_content() -> None:
    assert truncate_middle("abcdefghij", 4) == "ab...ij"
    assert truncate_middle("abc", 4) == "abc"
    assert truncate_middle("abc", 0) == ""
