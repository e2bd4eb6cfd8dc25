"""Chat turns: the user message is stored first, the reply as it streams and at the end."""

from __future__ import annotations

import asyncio
import json
import sys
import types
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.local_host import LocalHost
from tuichat.runtime import reply_saving
from tuichat.runtime.errors import UnknownModel
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.turn import Turn, default_title


# These tests share live objects with the pipe (events it waits on, modules they inject, the
# loaded instance, the `open_webui` binding): the engine runs in this process for them
# (tests/local_host.py). The host process itself is tested in tests/test_host_process.py.
@pytest.fixture
def host(local_host: LocalHost) -> LocalHost:
    return local_host


@pytest.fixture
def library(local_library: FunctionLibrary) -> FunctionLibrary:
    return local_library


GATED = """
import turn_gate

class Pipe:
    async def pipe(self, body: dict, __event_emitter__=None):
        await __event_emitter__({"type": "status", "data": {"description": "waiting", "done": False}})
        yield "first "
        await turn_gate.gate.wait()
        yield "second"
        if turn_gate.fail:
            raise RuntimeError("upstream went away")
"""

HISTORY = """
import json

class Pipe:
    def pipe(self, body: dict):
        return json.dumps([[m["role"], m["content"]] for m in body["messages"]])
"""


@pytest.fixture
def gate() -> Iterator[types.SimpleNamespace]:
    namespace = types.SimpleNamespace(gate=asyncio.Event(), fail=False)
    sys.modules["turn_gate"] = namespace  # type: ignore[assignment]
    yield namespace
    del sys.modules["turn_gate"]


@pytest.fixture
async def gated(library: FunctionLibrary, gate: types.SimpleNamespace) -> str:
    await library.add(GATED, function_id="gated")
    return "gated"


async def drain(steps: AsyncIterator[object]) -> None:
    async for _ in steps:
        pass


async def test_user_message_is_stored_before_the_pipe_answers(host: PipeHost, gated: str, gate: types.SimpleNamespace) -> None:
    turn = Turn(host, gated, "hello world")
    steps = turn.run()
    await anext(steps)  # the status event: the pipe is running
    chat = turn.context.chat
    assert chat is not None and chat.title == "hello world"
    stored = await host.store.chats.messages(chat.id)
    assert [(m.role, m.content, m.status) for m in stored] == [("user", "hello world", "done"), ("assistant", "", "streaming")]
    assert stored[1].parent_id == stored[0].id and stored[1].model_id == "gated"
    gate.gate.set()
    await drain(steps)
    final = await host.store.chats.get_message(stored[1].id)
    assert final is not None and (final.content, final.status, final.error) == ("first second", "done", None)


async def test_a_streaming_reply_is_saved_while_it_streams(
    host: PipeHost, gated: str, gate: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reply_saving, "SAVE_INTERVAL", 0.0)
    turn = Turn(host, gated, "hi")
    steps = turn.run()
    await anext(steps)  # status
    await anext(steps)  # "first "
    pending = asyncio.ensure_future(anext(steps))  # resumes: saves, then waits on the gate
    await asyncio.sleep(0.05)
    assert turn.context.reply_message is not None
    saved = await host.store.chats.get_message(turn.context.reply_message.id)
    assert saved is not None and (saved.content, saved.status) == ("first ", "streaming")
    events = await host.store.chats.events(saved.id)
    assert [data for _, data in events] == [{"event": {"type": "status", "data": {"description": "waiting", "done": False}}}]
    gate.gate.set()
    await pending
    await drain(steps)


async def test_a_stopped_reply_keeps_what_arrived(host: PipeHost, gated: str) -> None:
    turn = Turn(host, gated, "hi")
    steps = turn.run()
    await anext(steps)
    await anext(steps)  # "first "
    turn.cancel()
    await drain(steps)
    assert turn.reply.status == "stopped"
    assert turn.context.reply_message is not None
    saved = await host.store.chats.get_message(turn.context.reply_message.id)
    assert saved is not None and (saved.content, saved.status) == ("first", "stopped")


async def test_a_failed_reply_keeps_its_text_and_error(host: PipeHost, gated: str, gate: types.SimpleNamespace) -> None:
    gate.fail = True
    gate.gate.set()
    turn = Turn(host, gated, "hi")
    await drain(turn.run())
    assert turn.context.reply_message is not None
    saved = await host.store.chats.get_message(turn.context.reply_message.id)
    assert saved is not None
    assert (saved.content, saved.status, saved.error) == ("first second", "error", "upstream went away")
    assert "RuntimeError: upstream went away" in saved.extra["traceback"]
    assert "gated.py" in saved.extra["traceback"]


async def test_a_continued_chat_sends_its_history(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(HISTORY, function_id="history")
    first = Turn(host, "history", "one", system="be brief")
    await drain(first.run())
    assert first.context.chat is not None
    second = Turn(host, "history", "two", chat_id=first.context.chat.id)
    await drain(second.run())
    assert json.loads(second.reply.content) == [
        ["system", "be brief"],
        ["user", "one"],
        ["assistant", first.reply.content],
        ["user", "two"],
    ]
    messages = await host.store.chats.messages(first.context.chat.id)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2].parent_id == messages[1].id


async def test_an_unknown_model_stores_nothing(host: PipeHost) -> None:
    with pytest.raises(UnknownModel, match="unknown model 'nope.sub'"):
        await Turn(host, "nope.sub", "hi").prepare()
    assert await host.store.chats.list() == []


async def test_no_save_stores_nothing(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(HISTORY, function_id="history")
    turn = Turn(host, "history", "hi", save=False)
    await drain(turn.run())
    assert turn.reply.content == '[["user", "hi"]]'
    assert await host.store.chats.list() == []


def test_default_title_uses_the_first_line() -> None:
    assert default_title("\n  Plan a trip \nsecond line") == "Plan a trip"
    assert default_title("   ") == "New chat"
    long = default_title("x" * 100)
    assert len(long) == 60 and long.endswith("…")
