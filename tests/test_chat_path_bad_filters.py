"""Filters that misbehave, through the real host process and the turn the TUI and the CLI
run: a hook that never returns (a stop still works, and says which filter and hook it was
stuck in), one that floods events (bounded as a pipe's flood is), the wrong type returned,
and what is stored whatever happens. tests/test_chat_path_errors.py has the CLI's side
(a hook that raises or returns None, in each hook)."""

from __future__ import annotations

import asyncio
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tuichat.runtime.host import PipeHost
from tuichat.runtime.hostproc import client as client_module
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.capped import MAX_ACTIVITY
from tuichat.runtime.reply.model import Reply
from tuichat.runtime.reply.present import describe_entry
from tuichat.runtime.turn import Turn
from tuichat.store import Store

GUARD = 60.0  # seconds before a stuck case fails instead of hanging

# Says "hello ", then "there " a moment later (so a stop can come in between).
SLOW_PARROT = '''
import asyncio
class Pipe:
    async def pipe(self, body):
        yield "hello "
        await asyncio.sleep(0.2)
        yield "there "
'''


def src(text: str, **names: Any) -> str:
    return textwrap.dedent(text).lstrip("\n").format(**names)


def second_chunk() -> str:
    """The condition a stream hook below waits for: the chunk that says 'there '."""
    return '((event.get("choices") or [{}])[0].get("delta") or {}).get("content") == "there "'


async def setup(library: FunctionLibrary, store: Store, filter_source: str, fid: str) -> None:
    await library.add(SLOW_PARROT, function_id="parrot")
    await library.add(filter_source, function_id=fid)
    await store.functions.update(fid, is_global=True)


async def until_exists(path: Path) -> None:
    """The filter writes `path` as it starts to hang: the stop comes while it hangs."""
    deadline = time.monotonic() + GUARD
    while not path.exists():
        assert time.monotonic() < deadline, f"the filter never reached its hang ({path.name})"
        await asyncio.sleep(0.02)


async def stopped_while_hanging(host: PipeHost, marker: Path) -> Turn:
    turn = Turn(host, "parrot", "hi")

    async def run() -> None:
        async for _ in turn.run():
            pass

    task = asyncio.ensure_future(run())
    await until_exists(marker)
    turn.cancel()
    await asyncio.wait_for(task, GUARD)
    return turn


def shown(reply: Reply) -> str:
    return "\n".join(str(describe_entry(entry)) for entry in reply.activity)


async def stored_reply(store: Store, turn: Turn) -> tuple[str, str, str | None]:
    """The stored user message, and the reply's content and status."""
    assert turn.context.chat is not None and turn.context.reply_message is not None
    user, reply = await store.chats.messages(turn.context.chat.id)
    return user.content, reply.content, reply.status


async def next_turn_works(host: PipeHost, store: Store, fid: str) -> None:
    """With the filter off, the next message is answered: the app and its host go on."""
    await store.functions.update(fid, is_global=False)
    turn = Turn(host, "parrot", "again", save=False)
    async for _ in turn.run():
        pass
    assert turn.reply.error is None and turn.reply.content.startswith("hello there")


# -- a hook that never returns --------------------------------------------------------------
HANGS_AWAITING = {
    "inlet": """
        import asyncio, pathlib
        class Filter:
            async def inlet(self, body):
                pathlib.Path({marker!r}).touch()
                await asyncio.Event().wait()
    """,
    "stream": """
        import asyncio, pathlib
        class Filter:
            async def stream(self, event):
                if {second}:
                    pathlib.Path({marker!r}).touch()
                    await asyncio.Event().wait()
                return event
    """,
    "outlet": """
        import asyncio, pathlib
        class Filter:
            async def outlet(self, body):
                pathlib.Path({marker!r}).touch()
                await asyncio.sleep(3600)
    """,
}


@pytest.mark.parametrize("hook", list(HANGS_AWAITING))
async def test_a_stop_ends_a_hook_that_awaits_forever_and_says_which(
    hook: str, host: PipeHost, library: FunctionLibrary, store: Store, tmp_path: Path
) -> None:
    marker = tmp_path / "hanging"
    await setup(library, store, src(HANGS_AWAITING[hook], marker=str(marker), second=second_chunk()), "waits")
    turn = await stopped_while_hanging(host, marker)
    reply = turn.reply
    assert reply.status == "stopped"
    assert f"[filter waits {hook}] stopped while filter 'waits' {hook} was running (" in shown(reply)
    arrived = {"inlet": "", "stream": "hello", "outlet": "hello there"}[hook]
    assert await stored_reply(store, turn) == ("hi", arrived, "stopped")
    await next_turn_works(host, store, "waits")


async def test_a_stop_keeps_the_words_that_had_arrived_while_the_front_end_was_busy(
    host: PipeHost, library: FunctionLibrary, store: Store, tmp_path: Path
) -> None:
    # The front end is still drawing "hello " when the pipe says "there " and its outlet
    # starts to hang; the user stops then. "there " had arrived: it is shown and stored
    # (it used to be dropped with the stop, and the reply lost its last words).
    marker = tmp_path / "hanging"
    await setup(library, store, src(HANGS_AWAITING["outlet"], marker=str(marker)), "waits")
    turn = Turn(host, "parrot", "hi")
    steps = turn.run()
    while "hello" not in (await anext(steps)).text:
        pass
    await until_exists(marker)  # (the front end is busy: nothing is read meanwhile)
    await asyncio.sleep(0.3)  # "there " reaches this process's queue, unread
    turn.cancel()
    async for _ in steps:
        pass
    assert turn.reply.status == "stopped"
    assert turn.reply.content.startswith("hello there")
    assert await stored_reply(store, turn) == ("hi", "hello there", "stopped")


BLOCKS_THE_LOOP = {
    "inlet": """
        import pathlib
        class Filter:
            def inlet(self, body):
                pathlib.Path({marker!r}).touch()
                while True:
                    pass
    """,
    "stream": """
        import pathlib, time
        class Filter:
            async def stream(self, event):
                if {second}:
                    pathlib.Path({marker!r}).touch()
                    time.sleep(3600)
                return event
    """,
}


@pytest.mark.parametrize("hook", list(BLOCKS_THE_LOOP))
async def test_a_hook_that_blocks_the_host_is_killed_on_stop_and_named(
    hook: str, host: PipeHost, library: FunctionLibrary, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It cannot even hear the stop: the host is killed after STOP_GRACE, once it has
    # printed where it was (`HostProcess.stop_stuck`), and the reply says which hook that was.
    monkeypatch.setattr(client_module, "STOP_GRACE", 0.3)
    marker = tmp_path / "spinning"
    await setup(library, store, src(BLOCKS_THE_LOOP[hook], marker=str(marker), second=second_chunk()), "spin")
    turn = await stopped_while_hanging(host, marker)
    reply = turn.reply
    assert reply.status == "stopped"
    [line] = [str(describe_entry(e)) for e in reply.activity if e.kind == "log" and e.data.get("filter") == "spin"
              and e.data.get("hook") == hook and e.data.get("error")]  # fmt: skip
    assert line.startswith(f"[filter spin {hook}] filter 'spin' {hook} never returned; the pipe process was restarted: ")
    assert "(it was at spin.py:" in line and f" in {hook})" in line
    assert await stored_reply(store, turn) == ("hi", "" if hook == "inlet" else "hello", "stopped")
    await next_turn_works(host, store, "spin")


# -- a hook that floods events --------------------------------------------------------------
FLOOD = """
class Filter:
    async def stream(self, event, __event_emitter__):
        if {second}:
            for i in range(100_000):
                await __event_emitter__({{"type": "status", "data": {{"description": f"step {{i}}"}}}})
        return event
"""


async def test_a_stream_hook_flooding_events_is_bounded_like_a_pipe(
    host: PipeHost, library: FunctionLibrary, store: Store
) -> None:
    # 100,000 events from a hook the stream stage awaits inline: more than the channel
    # holds (4,096), so they are sent on while the hook runs; the reply keeps its cap.
    await setup(library, store, src(FLOOD, second=second_chunk()), "flood")
    turn = Turn(host, "parrot", "hi")
    started = time.monotonic()
    async for _ in turn.run():
        pass
    reply = turn.reply
    assert (reply.content, reply.error, reply.status) == ("hello there", None, "done")
    assert len(reply.statuses) == MAX_ACTIVITY and reply.statuses[-1]["description"] == "step 99999"
    text = shown(reply)
    assert "[filter flood stream] status: step 0 (running)" in text
    assert "more activity entries were not kept" in text
    assert "[filter flood stream] 3 chunks, 0 rewritten, 0 dropped, " in text
    assert await stored_reply(store, turn) == ("hi", "hello there", "done")
    assert time.monotonic() - started < GUARD


# -- the wrong type, and what is stored -----------------------------------------------------
WRONG = {
    "request_none": ("class Filter:\n    def request(self, body):\n        return None\n", "request"),
    "stream_str": ('class Filter:\n    def stream(self, event):\n        return "a string"\n', "stream"),
    "outlet_str": ('class Filter:\n    def outlet(self, body):\n        return "a string"\n', "outlet"),
    "inlet_raise": ('class Filter:\n    def inlet(self, body):\n        raise ValueError("no way")\n', "inlet"),
    "stream_raise": (
        f"class Filter:\n    def stream(self, event):\n        if {second_chunk()}:\n            raise KeyError('bad chunk')\n"
        "        return event\n",
        "stream",
    ),
}


@pytest.mark.parametrize("case", list(WRONG))
async def test_a_misbehaving_hook_is_named_and_the_exchange_is_stored(
    case: str, host: PipeHost, library: FunctionLibrary, store: Store
) -> None:
    source, hook = WRONG[case]
    await setup(library, store, source, "odd")
    turn = Turn(host, "parrot", "hi")
    async for _ in turn.run():
        pass
    reply, text = turn.reply, shown(turn.reply)
    expected: dict[str, tuple[str, str | None, str]] = {
        # Open WebUI's `normalize_messages_for_model` reads the body right after the request hooks.
        "request_none": ("", "'NoneType' object has no attribute 'get'", "filter 'odd' request returned NoneType instead of the body"),
        "stream_str": ("", None, "[filter odd stream] chunk dropped (it returned str, not a chunk)"),
        "outlet_str": ("hello there", None, "[filter odd outlet] ran in "),
        "inlet_raise": ("", "no way", "[filter odd inlet] filter 'odd' inlet failed: ValueError: no way"),
        "stream_raise": ("hello", None, "[filter odd stream] KeyError: 'bad chunk'"),
    }  # fmt: skip
    content, error, said = expected[case]
    assert (reply.content, reply.error) == (content, error)
    assert said in text
    if case == "outlet_str":
        assert "returned str instead of the body" in text
    if case in ("request_none", "inlet_raise", "stream_raise"):  # the traceback is under the line
        [entry] = [e for e in reply.activity if e.kind == "log" and e.data.get("error") and e.data.get("hook") == hook]
        assert "Traceback" in describe_entry(entry).detail
    assert await stored_reply(store, turn) == ("hi", content, "error" if error else "done")
