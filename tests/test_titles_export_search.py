"""Title generation (spec §10.3, §12 test 74), chat export, and full-text search."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
import types
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.local_host import LocalHost
from tuichat.runtime.background.prompt import task_messages
from tuichat.runtime.background.settings import TITLE as TITLE_SETTING
from tuichat.runtime.background.titles import (
    DEFAULT_TITLE_GENERATION_PROMPT_TEMPLATE,
    generate_title,
    title_prompt,
)
from tuichat.runtime.export import chat_to_json, chat_to_markdown
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import ChatRow, MessageRow, Store, StoreError
from tuichat.store.chats import MATCH_END, MATCH_START, SearchHit, match_expression
from tuichat.store.schema import MIGRATIONS, SCHEMA_VERSION, statements


# These tests share live objects with the pipe (modules they inject, the loaded instance and
# its module): the engine runs in this process for them (tests/local_host.py).
@pytest.fixture
def host(local_host: LocalHost) -> LocalHost:
    return local_host


@pytest.fixture
def library(local_library: FunctionLibrary) -> FunctionLibrary:
    return local_library

HISTORY = [{"role": "user", "content": "Hello there"}, {"role": "assistant", "content": ""}]

# -- title generation -------------------------------------------------------------------

ANSWERING = """
import title_probe

class Pipe:
    def pipe(self, body: dict):
        title_probe.calls.append(body)
        answer = title_probe.answer
        if isinstance(answer, Exception):
            raise answer
        return answer
"""

RECORDING = """
import title_probe

class Pipe:
    def pipe(
        self, body: dict, __task__=None, __task_body__=None, __event_emitter__="absent",
        __event_call__="absent", __chat_id__=None, __session_id__=None,
        __message_id__="absent", __metadata__=None,
    ):
        title_probe.calls.append({
            "body": body, "task": __task__, "task_body": __task_body__,
            "event_emitter": __event_emitter__, "event_call": __event_call__,
            "chat_id": __chat_id__, "session_id": __session_id__,
            "message_id": __message_id__, "metadata": __metadata__,
        })
        return '{"title": "Recorded"}'
"""

WAITING = """
import title_probe

class Pipe:
    async def pipe(self, body: dict):
        title_probe.started.set()
        await title_probe.forever.wait()
"""


@pytest.fixture
def probe() -> Iterator[types.SimpleNamespace]:
    namespace = types.SimpleNamespace(calls=[], answer=None, started=asyncio.Event(), forever=asyncio.Event())
    sys.modules["title_probe"] = namespace  # type: ignore[assignment]
    yield namespace
    del sys.modules["title_probe"]


@pytest.fixture
async def answering(library: FunctionLibrary, probe: types.SimpleNamespace) -> str:
    await library.add(ANSWERING, function_id="titler")
    return "titler"


async def title_for(host: PipeHost, model: str, answer: Any, probe: types.SimpleNamespace, messages: list[dict[str, Any]] = HISTORY) -> str | None:
    probe.answer = answer
    return await generate_title(host, "chat-1", model, messages)


@pytest.mark.parametrize(
    "answer",
    ['{"title": "Greeting"}', 'Sure! Here it is:\n```json\n{ "title": "Greeting" }\n```', {"choices": [{"message": {"content": '{"title": "Greeting"}'}}]}],
)
async def test_a_json_title_is_the_title(host: PipeHost, answering: str, probe: types.SimpleNamespace, answer: Any) -> None:
    assert await title_for(host, answering, answer, probe) == "Greeting"


async def test_reasoning_content_is_read_when_the_content_is_empty(host: PipeHost, answering: str, probe: types.SimpleNamespace) -> None:
    answer = {"choices": [{"message": {"content": "", "reasoning_content": 'I think {"title": "Deep Thought"}'}}]}
    assert await title_for(host, answering, answer, probe) == "Deep Thought"


@pytest.mark.parametrize(
    "answer",
    [
        "Greeting",  # spec test 74: no JSON, so the caller uses the first message
        '{"title": ""}',
        "{not json}",
        "}{",
        "",
        None,
        {"choices": []},
        {"choices": [{"message": {"content": "a"}}, {"message": {"content": "b"}}]},
        {"choices": [{"message": {"content": ["not", "text"]}}]},
        {"error": {"detail": "upstream down"}},
        '{"title": 42}',
    ],
)
async def test_no_usable_title_is_none(host: PipeHost, answering: str, probe: types.SimpleNamespace, answer: Any) -> None:
    assert await title_for(host, answering, answer, probe) is None


async def test_json_without_a_title_gives_the_last_user_message(host: PipeHost, answering: str, probe: types.SimpleNamespace) -> None:
    long = "x" * 150
    messages = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": long}]
    assert await title_for(host, answering, '{"name": "Greeting"}', probe, messages) == "x" * 100 + "..."
    assert await title_for(host, answering, '{"name": "Greeting"}', probe) == "Hello there"  # short: not cut


async def test_failures_give_none(host: PipeHost, answering: str, probe: types.SimpleNamespace) -> None:
    assert await title_for(host, answering, RuntimeError("boom"), probe) is None
    assert await generate_title(host, "chat-1", "no_such_model", HISTORY) is None
    await host.store.functions.set_active(answering, False)
    assert await title_for(host, answering, '{"title": "Greeting"}', probe) is None


async def test_the_setting_turns_it_off(host: PipeHost, answering: str, probe: types.SimpleNamespace) -> None:
    await host.store.settings.set(TITLE_SETTING, False)
    assert await title_for(host, answering, '{"title": "Greeting"}', probe) is None
    assert probe.calls == []


async def test_the_call_has_open_webui_task_shape(host: PipeHost, library: FunctionLibrary, probe: types.SimpleNamespace) -> None:
    await library.add(RECORDING, function_id="recorder")
    chat = await host.store.chats.create("New chat")
    user_id = (await host.store.users.local())["id"]
    assert await generate_title(host, chat.id, "recorder", HISTORY) == "Recorded"
    [call] = probe.calls
    task_body = {"model": "recorder", "messages": HISTORY, "chat_id": chat.id}
    assert call == {
        "body": {"model": "recorder", "messages": [{"role": "user", "content": title_prompt(HISTORY)}], "stream": False, "max_tokens": 1000},
        "task": "title_generation",
        "task_body": task_body,
        "event_emitter": None,
        "event_call": None,
        "chat_id": chat.id,
        "session_id": host.session_id,
        "message_id": None,
        "metadata": {"task": "title_generation", "task_body": task_body, "chat_id": chat.id, "session_id": host.session_id, "user_id": user_id},
    }


async def test_cancellation_goes_through(host: PipeHost, library: FunctionLibrary, probe: types.SimpleNamespace) -> None:
    await library.add(WAITING, function_id="waiter")
    task = asyncio.create_task(generate_title(host, "chat-1", "waiter", HISTORY))
    await asyncio.wait_for(probe.started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_the_prompt_holds_the_last_two_messages() -> None:
    messages = [
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": [{"type": "image_url"}, {"type": "text", "text": "three"}]},
    ]
    head = DEFAULT_TITLE_GENERATION_PROMPT_TEMPLATE.split("{{MESSAGES:END:2}}")[0]
    assert title_prompt(messages) == head + "ASSISTANT: two\nUSER: three\n</chat_history>"
    # Open WebUI's own formatting of a reply not written yet, and of a missing text.
    assert title_prompt(HISTORY).endswith("<chat_history>\nUSER: Hello there\nASSISTANT: \n</chat_history>")
    assert title_prompt([{"role": "user", "content": None}]).endswith("USER: None\n</chat_history>")


async def test_task_messages_drop_details_and_images(store: Store) -> None:
    chat = await store.chats.create("c")
    await store.chats.add_message(chat.id, "user", "look ![cat](cat.png) here")
    await store.chats.add_message(chat.id, "assistant", '<details type="reasoning">\nhmm\n</details>\nA cat.')
    assert task_messages(await store.chats.messages(chat.id)) == [
        {"role": "user", "content": "look  here"},
        {"role": "assistant", "content": "A cat."},
    ]


# -- export ------------------------------------------------------------------------------

CHAT = ChatRow(
    id="c1", title="Cats\nand dogs", model_id="pets", system_prompt="Be brief.", stream=True, params={}, created_at=0.0, updated_at=60.0
)


def message(id: str, role: str, content: str, **fields: Any) -> MessageRow:
    values: dict[str, Any] = {
        "id": id, "chat_id": "c1", "parent_id": None, "role": role, "content": content, "model_id": None,
        "created_at": 1.0, "updated_at": 1.0, "status": "done", "error": None, "reasoning": None, "usage": None, "extra": {},
    }  # fmt: skip
    return MessageRow(**(values | fields))


REPLY = message(
    "m2", "assistant", "Cats purr.\n", model_id="pets", status="error", error="upstream went away",
    reasoning="The user asks about cats.",
    extra={
        "statuses": [{"description": "Searching", "done": True}],
        "sources": [
            {"document": ["body"], "metadata": [{"source": "https://ex.com/a"}], "source": {"name": "Ex"}},
            {"source": {"name": "Notes"}},
        ],
    },
)  # fmt: skip


def test_markdown_export() -> None:
    messages = [message("m1", "user", "    indented code\n"), REPLY, message("m3", "assistant", "", status="stopped")]
    assert chat_to_markdown(CHAT, messages) == (
        "# Cats and dogs\n\n"
        "- Created: 1970-01-01 00:00 UTC\n- Model: `pets`\n- System prompt:\n\n> Be brief.\n\n"
        "## User\n\n    indented code\n\n"
        "## Assistant · `pets`\n\n_Searching_\n\n"
        "<details>\n<summary>Reasoning</summary>\n\nThe user asks about cats.\n\n</details>\n\n"
        "Cats purr.\n\n> **Error:** upstream went away\n\n"
        # Named as the chat shows them (Open WebUI's chips): a web source by its address; a
        # source with no documents makes no chip.
        "**Sources**\n\n- <https://ex.com/a>\n\n"
        "## Assistant\n\n_Stopped before the end._\n"
    )


async def test_json_export_holds_everything_stored(store: Store) -> None:
    chat = await store.chats.create("Cats", model_id="pets", params={"temperature": 0.2})
    asked = await store.chats.add_message(chat.id, "user", "Tell me about cats")
    reply = await store.chats.add_message(chat.id, "assistant", "", model_id="pets", parent_id=asked.id, status="streaming")
    events = [(0.1, {"event": {"type": "status", "data": {"description": "Searching"}}}), (0.2, {"error": {"message": "x"}})]
    await store.chats.save_reply(
        reply.id, content="Cats purr.", reasoning="Hmm.", status="error", error="x",
        usage={"total_tokens": 3}, extra=REPLY.extra, new_events=events,
    )  # fmt: skip
    chat = await store.chats.get(chat.id) or chat
    messages = await store.chats.messages(chat.id)
    events_by_message = {m.id: await store.chats.events(m.id) for m in messages}
    exported = chat_to_json(chat, messages, events_by_message)
    assert json.loads(json.dumps(exported)) == exported  # plain JSON, nothing lost on the way
    assert exported == chat_to_json(chat, messages, events_by_message)
    assert exported["chat"] == {
        "id": chat.id, "title": "Cats", "model_id": "pets", "system_prompt": None, "stream": True,
        "params": {"temperature": 0.2}, "created_at": chat.created_at, "updated_at": chat.updated_at,
        "current_id": chat.current_id, "filter_ids": [], "origin": "app", "tool_ids": [],
    }  # fmt: skip
    user, assistant = exported["messages"]
    assert user["content"] == "Tell me about cats" and user["events"] == []
    saved = messages[1]
    assert assistant == {
        "id": saved.id, "chat_id": chat.id, "parent_id": asked.id, "role": "assistant", "content": "Cats purr.",
        "model_id": "pets", "created_at": saved.created_at, "updated_at": saved.updated_at, "status": "error",
        "error": "x", "reasoning": "Hmm.", "usage": {"total_tokens": 3}, "extra": REPLY.extra, "files": [],
        "events": [{"at": 0.1, "data": events[0][1]}, {"at": 0.2, "data": events[1][1]}],
    }  # fmt: skip


# -- search ------------------------------------------------------------------------------


async def assert_index_matches_rebuild(store: Store) -> None:
    """The triggers left exactly the index a rebuild from the content makes."""

    async def instances(table: str) -> list[tuple[Any, ...]]:
        await store.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_vocab USING fts5vocab(main, {table}, instance)")
        rows = await store.fetchall(f"SELECT * FROM temp.{table}_vocab ORDER BY 1, 2, 3, 4")
        return [tuple(row) for row in rows]

    for table in ("message_search", "chat_search"):
        kept = await instances(table)
        await store.execute(f"INSERT INTO {table} ({table}) VALUES ('rebuild')")
        assert await instances(table) == kept, table


def words(hits: list[SearchHit]) -> list[str]:
    return [text for hit in hits for text, matched in hit.parts() if matched]


async def test_migrating_a_v1_database_indexes_what_it_holds(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        for statement in statements(MIGRATIONS[0]):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO chat (id, title, created_at, updated_at) VALUES ('c1', 'Old chat', 1, 1)")
        # m2 was saved just now, so start-up takes it for a reply still streaming (see
        # ChatRepo.recover_interrupted) and leaves it out of the index.
        for id, content, status in [("m1", "remember the zebra", "done"), ("m2", "a zebra half written", "streaming")]:
            conn.execute(
                "INSERT INTO message (id, chat_id, role, content, created_at, updated_at, status) VALUES (?, 'c1', 'user', ?, 1, ?, ?)",
                (id, content, time.time(), status),
            )
    async with await Store.open(db_path) as store:
        assert await store.fetchvalue("PRAGMA user_version") == SCHEMA_VERSION
        hits = await store.chats.search("zebra")
        assert [(h.chat_id, h.chat_title, h.message_id) for h in hits] == [("c1", "Old chat", "m1")]
        assert [h.chat_id for h in await store.chats.search("old")] == ["c1"]
        await assert_index_matches_rebuild(store)


async def test_the_index_follows_every_change(store: Store) -> None:
    chats = store.chats
    chat = await chats.create("Gardening")
    asked = await chats.add_message(chat.id, "user", "How do I grow tomatoes?")
    assert [h.message_id for h in await chats.search("tomatoes")] == [asked.id]

    edited = await chats.update_message_content(asked.id, "How do I grow peppers?")
    assert edited.content == "How do I grow peppers?"
    assert await chats.search("tomatoes") == []
    assert [h.message_id for h in await chats.search("peppers")] == [asked.id]

    # A streaming reply is indexed once, when it is finished.
    reply = await chats.add_message(chat.id, "assistant", "", status="streaming")
    common = {"reasoning": None, "error": None, "usage": None, "extra": {}}
    await chats.save_reply(reply.id, content="Sunlight and water", status="streaming", **common)
    assert await chats.search("sunlight") == []
    await chats.save_reply(reply.id, content="Sunlight and water, daily", status="done", **common)
    assert [h.message_id for h in await chats.search("sunlight daily")] == [reply.id]

    await chats.rename(chat.id, "Vegetables")
    assert await chats.search("gardening") == []
    assert [(h.chat_title, h.message_id) for h in await chats.search("vegetables")] == [("Vegetables", None)]
    await assert_index_matches_rebuild(store)

    assert await chats.delete_messages_after(asked.id) == 1
    assert await chats.search("sunlight") == []
    assert await chats.delete(chat.id)
    assert await chats.search("peppers") == [] and await chats.search("vegetables") == []
    await assert_index_matches_rebuild(store)


HOSTILE = [
    '"', '""', '"unclosed', "*", "a*", "*a", "OR", "a OR", "OR b", "NOT", "AND a", "NEAR(a b)", "a NEAR b",
    "-", "-a", "a -b", "+", "^a", "a:b", "title:x", "content:apple", "(", ")", "(a", "{a b}", "[x]", "'",
    "a'b", "\\", "\x00", "🍎", "apple 🍎", "e-mail", "C++", "_", "__init__", "...", "", "   ", "a" * 5000,
]  # fmt: skip


@pytest.mark.parametrize("query", HOSTILE)
async def test_any_text_is_a_valid_query(store: Store, query: str) -> None:
    chat = await store.chats.create("t")
    await store.chats.add_message(chat.id, "user", "an apple OR two, e-mail me: NOT now -- content:apple")
    hits = await store.chats.search(query)
    assert all(isinstance(hit, SearchHit) for hit in hits)


async def test_operators_typed_by_a_user_are_plain_words(store: Store) -> None:
    chat = await store.chats.create("t")
    both = await store.chats.add_message(chat.id, "user", "apple or pear")
    await store.chats.add_message(chat.id, "user", "pear alone")
    assert [h.message_id for h in await store.chats.search("apple OR pear")] == [both.id]
    assert [h.message_id for h in await store.chats.search('"apple"')] == [both.id]
    assert [h.message_id for h in await store.chats.search("apple -pear")] == [both.id]  # "-" is no NOT
    assert match_expression('say "hi" OR -x*') == '"say" """hi""" "OR" "-x*"*'
    assert match_expression(" -- ") is None


async def test_the_last_word_is_a_prefix(store: Store) -> None:
    chat = await store.chats.create("t")
    found = await store.chats.add_message(chat.id, "user", "Photosynthesis in plants")
    assert [h.message_id for h in await store.chats.search("plants photosyn")] == [found.id]
    assert await store.chats.search("photosyn plants") == []  # only the last word


async def test_matching_ignores_case_and_accents(store: Store) -> None:
    chat = await store.chats.create("t")
    found = await store.chats.add_message(chat.id, "user", "Un CAFÉ crème")
    assert [h.message_id for h in await store.chats.search("cafe creme")] == [found.id]


async def test_the_better_match_comes_first(store: Store) -> None:
    chat = await store.chats.create("t")
    padding = " ".join(f"word{i}" for i in range(200))
    weak = await store.chats.add_message(chat.id, "user", f"{padding} kangaroo {padding}")
    strong = await store.chats.add_message(chat.id, "user", "kangaroo facts: the kangaroo hops")
    hits = await store.chats.search("kangaroo")
    assert [h.message_id for h in hits] == [strong.id, weak.id]
    assert hits[0].rank < hits[1].rank


async def test_equal_matches_come_newest_first(store: Store) -> None:
    older = await store.chats.create("a")
    first = await store.chats.add_message(older.id, "user", "quokka")
    newer = await store.chats.create("b")
    second = await store.chats.add_message(newer.id, "user", "quokka")
    assert [h.message_id for h in await store.chats.search("quokka")] == [second.id, first.id]
    assert [h.message_id for h in await store.chats.search("quokka", limit=1)] == [second.id]
    assert await store.chats.search("quokka", limit=0) == []


async def test_the_snippet_marks_the_match(store: Store) -> None:
    chat = await store.chats.create("Zoo trip")
    text = " ".join(["filler"] * 40 + ["the", "Wombat", "sleeps"] + ["filler"] * 40)
    await store.chats.add_message(chat.id, "user", text)
    [hit] = await store.chats.search("wombat")
    assert f"{MATCH_START}Wombat{MATCH_END}" in hit.snippet
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert words([hit]) == ["Wombat"]
    assert "".join(text for text, _ in hit.parts()) == hit.snippet.replace(MATCH_START, "").replace(MATCH_END, "")


# -- editing helpers -------------------------------------------------------------------


async def test_delete_messages_after_keeps_the_earlier_ones(store: Store) -> None:
    chats = store.chats
    chat = await chats.create("t")
    kept = [await chats.add_message(chat.id, "user", "one"), await chats.add_message(chat.id, "assistant", "two")]
    dropped = await chats.add_message(chat.id, "user", "three")
    last = await chats.add_message(chat.id, "assistant", "", status="streaming")
    await chats.save_reply(last.id, content="four", reasoning=None, status="done", error=None, usage=None, extra={}, new_events=[(0.1, {"event": {}})])
    other = await chats.create("other")
    untouched = await chats.add_message(other.id, "user", "elsewhere")
    before = (await chats.get(chat.id) or chat).updated_at

    assert await chats.delete_messages_after(kept[1].id) == 2
    assert [m.id for m in await chats.messages(chat.id)] == [m.id for m in kept]
    assert await chats.get_message(dropped.id) is None and await chats.events(last.id) == []
    assert [m.id for m in await chats.messages(other.id)] == [untouched.id]
    assert (await chats.get(chat.id) or chat).updated_at > before
    assert await chats.delete_messages_after(kept[1].id) == 0  # nothing after the last one


async def test_helpers_refuse_a_missing_message(store: Store) -> None:
    with pytest.raises(StoreError, match="No message"):
        await store.chats.delete_messages_after("gone")
    with pytest.raises(StoreError, match="No message"):
        await store.chats.update_message_content("gone", "text")
