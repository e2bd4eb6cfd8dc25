"""The runtime's deliberate differences from Open WebUI: it never freezes or kills the app.

Sync pipes run on the event loop as in Open WebUI (in the host process, so they block only
it: tests/test_host_process.py), cancellation stops a pipe, BaseExceptions from a pipe become
steps, floods are bounded, and a slow `pipes()` cannot stall the model list. Checks are behavioural: no assertion depends on how long anything took.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.local_host import LocalHost
from tests.tracing import ORACLE_METADATA, collect, normalise
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation import invoke as invoke_module
from tuichat.runtime.invocation.channel import Channel
from tuichat.runtime.invocation.trace import EventStep, RaisedStep, SseStep, Step
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store


# These tests share live objects with the pipe (events it waits on, modules they inject, the
# loaded instance, the `open_webui` binding): the engine runs in this process for them
# (tests/local_host.py). The host process itself is tested in tests/test_host_process.py.
@pytest.fixture
def host(local_host: LocalHost) -> LocalHost:
    return local_host


@pytest.fixture
def library(local_library: FunctionLibrary) -> FunctionLibrary:
    return local_library

GUARD = 10.0  # seconds before a stuck test fails instead of hanging (never reached when passing)


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def chunk(model: str, content: str | None) -> dict[str, str]:
    finish, delta = ("stop", {}) if content is None else (None, {"content": content})
    data = {
        "id": f"{model}-<uuid>",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": finish, "delta": delta}],
        "object": "chat.completion.chunk",
    }
    return {"sse": f"data: {json.dumps(data, separators=(',', ':'))}\n\n"}


STOP = chunk("p", None)
DONE = {"sse": "data: [DONE]"}


async def add(library: FunctionLibrary, source: str, fid: str = "p") -> None:
    await library.add(src(source), function_id=fid)


async def start(host: PipeHost, *, stream: bool = True, model: str = "p", **extra: Any):  # type: ignore[no-untyped-def]
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream, **extra}
    return await host.invoke(model, body, metadata=dict(ORACLE_METADATA))


def js(steps: list[Step]) -> list[dict[str, Any]]:
    return [normalise(step.to_json()) for step in steps]


async def eventually(predicate: Callable[[], bool]) -> None:
    """Wait (bounded) for something another task or thread will do."""
    for _ in range(int(GUARD / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


# -- (a) sync pipes run on the event loop; sync pipes() lists off it -----------------


async def test_a_sync_pipe_runs_on_the_loop_as_in_open_webui(host: PipeHost, library: FunctionLibrary) -> None:
    """Open WebUI calls a sync pipe on its event loop, so pipes schedule work on it."""
    await add(
        library,
        """
        import asyncio

        class Pipe:
            def pipe(self, body, __event_emitter__=None):
                loop = asyncio.get_running_loop()
                loop.create_task(__event_emitter__({"type": "status", "data": {"description": "on the loop"}}))
                yield "a"
        """,
    )
    steps = js(await asyncio.wait_for(collect(await start(host)), GUARD))
    assert steps == [chunk("p", "a"), {"event": {"type": "status", "data": {"description": "on the loop"}}}, STOP, DONE]


async def test_sync_pipes_listing_runs_off_the_loop(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def __init__(self):
                self.gate = None

            def pipes(self):
                ok = self.gate is not None and self.gate.wait(5)
                return [{"id": "set" if ok else "timeout", "name": "X"}]

            def pipe(self, body):
                return "x"
        """,
    )
    row = await host.store.functions.get("p")
    assert row is not None
    gate = threading.Event()
    (await host.load(row)).instance.gate = gate
    asyncio.get_running_loop().call_later(0.05, gate.set)
    listing = await asyncio.wait_for(host.list_models(), GUARD)
    assert [m["id"] for m in listing.models] == ["p.set"]


# -- (b) cancellation -----------------------------------------------------------------


async def test_cancel_stops_an_async_generator(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import asyncio

        class Pipe:
            async def pipe(self, body):
                record = body["record"]
                yield "first"
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    record.append("cancelled")
                    raise
                record.append("woke up")
                yield "never"
        """,
    )
    record: list[str] = []
    invocation = await start(host, record=record)
    iterator = invocation.__aiter__()
    first = await asyncio.wait_for(iterator.__anext__(), GUARD)
    assert js([first]) == [chunk("p", "first")]
    invocation.cancel()
    rest = await asyncio.wait_for(collect_rest(iterator), GUARD)
    assert rest == []
    assert invocation.cancelled is True
    await eventually(lambda: record == ["cancelled"])


async def collect_rest(iterator: Any) -> list[Step]:
    return [step async for step in iterator]


async def test_breaking_out_of_async_for_stops_an_async_generator(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import asyncio

        class Pipe:
            async def pipe(self, body):
                record = body["record"]
                n = 0
                try:
                    while True:
                        n += 1
                        yield f"n{n}"
                        await asyncio.sleep(0.001)
                finally:
                    record.append("stopped")
        """,
    )
    record: list[str] = []
    invocation = await start(host, record=record)
    got: list[Step] = []
    async for step in invocation:
        got.append(step)
        break
    assert js(got) == [chunk("p", "n1")]
    await eventually(lambda: record == ["stopped"])
    assert invocation.cancelled is True


async def test_breaking_out_of_async_for_stops_a_sync_generator(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import time

        class Pipe:
            def pipe(self, body):
                record = body["record"]
                n = 0
                try:
                    while True:
                        n += 1
                        yield f"n{n}"
                        time.sleep(0.001)
                finally:
                    record.append("stopped")
        """,
    )
    record: list[str] = []
    invocation = await start(host, record=record)
    got: list[Step] = []
    async for step in invocation:
        got.append(step)
        break
    assert js(got) == [chunk("p", "n1")]
    await eventually(lambda: record == ["stopped"])
    assert invocation.cancelled is True


async def test_cancel_drops_steps_already_queued(host: PipeHost, library: FunctionLibrary) -> None:
    """Steps queued before cancel() (here in the same batch) are not handed out after it."""
    await add(
        library,
        """
        import asyncio

        class Pipe:
            async def pipe(self, body):
                yield "a"
                yield "b"
                yield "c"
                await asyncio.sleep(3600)
        """,
    )
    invocation = await start(host)
    iterator = invocation.__aiter__()
    first = await asyncio.wait_for(iterator.__anext__(), GUARD)
    assert js([first]) == [chunk("p", "a")]
    invocation.cancel()
    invocation.cancel()  # idempotent
    assert js(await asyncio.wait_for(collect_rest(iterator), GUARD)) == []
    assert invocation.cancelled is True


# -- (c) SystemExit / KeyboardInterrupt -----------------------------------------------


@pytest.mark.parametrize(
    ("source", "stream", "expected"),
    [
        ("def pipe(self, body):\n        raise SystemExit('bye')", True, [("SystemExit", "bye")]),
        ("def pipe(self, body):\n        raise KeyboardInterrupt", False, [("KeyboardInterrupt", "")]),
        ("async def pipe(self, body):\n        raise KeyboardInterrupt('ctrl-c')", True, [("KeyboardInterrupt", "ctrl-c")]),
        ("async def pipe(self, body):\n        raise SystemExit(3)", False, [("SystemExit", "3")]),
        ("def pipe(self, body):\n        yield 'a'\n        raise KeyboardInterrupt('k')", True, ["a", ("KeyboardInterrupt", "k")]),
        ("def pipe(self, body):\n        yield 'a'\n        raise SystemExit('s')", False, [("SystemExit", "s")]),
        ("async def pipe(self, body):\n        yield 'a'\n        raise SystemExit('s')", True, ["a", ("SystemExit", "s")]),
        ("async def pipe(self, body):\n        yield 'a'\n        raise KeyboardInterrupt('k')", False, [("KeyboardInterrupt", "k")]),
    ],
    ids=["sync-exit", "sync-kbd-nonstream", "async-kbd", "async-exit-nonstream", "syncgen-kbd", "syncgen-exit-nonstream", "asyncgen-exit", "asyncgen-kbd-nonstream"],
)
async def test_base_exceptions_become_raised_steps(
    source: str, stream: bool, expected: list[Any], host: PipeHost, library: FunctionLibrary
) -> None:
    await library.add(f"class Pipe:\n    {source}\n", function_id="p")
    steps = await asyncio.wait_for(collect(await start(host, stream=stream)), GUARD)
    want = [chunk("p", e) if isinstance(e, str) else {"raised": {"type": e[0], "message": e[1]}} for e in expected]
    assert js(steps) == want
    assert isinstance(steps[-1], RaisedStep)
    # The process, the loop and the host keep working.
    await library.add("class Pipe:\n    def pipe(self, body):\n        return 'still here'\n", function_id="q")
    after = await collect(await start(host, model="q"))
    assert js(after) == [chunk("q", "still here"), chunk("q", None), DONE]


async def test_base_exception_in_init_does_not_end_the_app(store: Store, host: PipeHost) -> None:
    await store.functions.insert(
        "p", name="p", type="pipe", content="class Pipe:\n    def __init__(self):\n        raise SystemExit('no')\n", is_active=True
    )
    steps = await asyncio.wait_for(collect(await start(host)), GUARD)
    assert js(steps) == [{"raised": {"type": "SystemExit", "message": "no"}}]
    row = await store.functions.get("p")
    assert row is not None and row.is_active is False


# A BaseException raised while *loading or listing* must not end the process either.
# Run in a child process, so a regression kills the child, not the test session.
_LISTING_SCRIPT = """
import asyncio, json, sys
from tuichat.runtime.errors import FunctionLoadError
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store

async def main(db, source):
    store = await Store.open(db)
    try:
        host = PipeHost(store)
        library = FunctionLibrary(host)
        await library.add("class Pipe:\\n    def pipe(self, body):\\n        return 'ok'\\n", function_id="good")
        await store.functions.insert("p", name="p", type="pipe", content=source, is_active=True)
        listing = await host.list_models()
        print(json.dumps({"models": [m["id"] for m in listing.models], "errors": listing.errors}), flush=True)
        row = await store.functions.get("p")
        print(json.dumps({"active": row.is_active}), flush=True)
        try:
            await library.add(source, function_id="q")
            print(json.dumps({"add": "stored"}), flush=True)
        except FunctionLoadError as error:
            print(json.dumps({"add": str(error)}), flush=True)
    finally:
        await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
print(json.dumps({"exit": "normal"}), flush=True)
"""


_BASE_EXCEPTION_CASES = {
    "sync-pipes-exit": (
        "class Pipe:\n    def pipes(self):\n        raise SystemExit('x')\n    def pipe(self, body):\n        return 'x'\n",
        [{"models": ["good"], "errors": {"p": "pipes failed: SystemExit: x"}}, {"active": True}, {"add": "stored"}],
    ),
    "async-pipes-kbd": (
        "class Pipe:\n    async def pipes(self):\n        raise KeyboardInterrupt('x')\n    def pipe(self, body):\n        return 'x'\n",
        [{"models": ["good"], "errors": {"p": "pipes failed: KeyboardInterrupt: x"}}, {"active": True}, {"add": "stored"}],
    ),
    "init-exit": (
        "class Pipe:\n    def __init__(self):\n        raise SystemExit('x')\n    def pipe(self, body):\n        return 'x'\n",
        [
            {"models": ["good"], "errors": {"p": "function 'p' failed to load: SystemExit: x"}},
            {"active": False},
            {"add": "function 'q' failed to load: SystemExit: x"},
        ],
    ),
    "module-kbd": (
        "raise KeyboardInterrupt('x')\nclass Pipe:\n    def pipe(self, body):\n        return 'x'\n",
        [
            {"models": ["good"], "errors": {"p": "function 'p' failed to load: KeyboardInterrupt: x"}},
            {"active": False},
            {"add": "function 'q' failed to load: KeyboardInterrupt: x"},
        ],
    ),
}


@pytest.fixture(scope="module")
def base_exception_children(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[Any], str]]:
    """Run every case in its own child process, all at once; a child that hangs is killed."""
    root = tmp_path_factory.mktemp("children")
    children = {
        name: subprocess.Popen(
            [sys.executable, "-c", _LISTING_SCRIPT, str(root / f"{name}.db"), source],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for name, (source, _) in _BASE_EXCEPTION_CASES.items()
    }
    deadline = time.monotonic() + 10  # each child needs about a second when all is well
    results: dict[str, tuple[list[Any], str]] = {}
    try:
        for name, child in children.items():
            try:
                out, err = child.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                out, err = child.communicate()
                err += "\n[child hung and was killed]"
            results[name] = ([json.loads(line) for line in out.splitlines() if line.startswith("{")], err)
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    return results


@pytest.mark.parametrize("case", list(_BASE_EXCEPTION_CASES))
def test_base_exceptions_while_listing_or_loading_do_not_end_the_app(
    case: str, base_exception_children: dict[str, tuple[list[Any], str]]
) -> None:
    lines, stderr = base_exception_children[case]
    assert lines == _BASE_EXCEPTION_CASES[case][1] + [{"exit": "normal"}], stderr[-2000:]


# -- (d) flooding ---------------------------------------------------------------------

DEFAULT_LIMIT = inspect.signature(Channel.__init__).parameters["limit"].default


class CountingChannel(Channel):  # type: ignore[type-arg]
    instances: ClassVar[list[CountingChannel]] = []

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int = DEFAULT_LIMIT) -> None:
        super().__init__(loop, limit)
        self.limit = limit
        self.batch_sizes: list[int] = []
        self.puts = 0
        CountingChannel.instances.append(self)

    def put(self, item: Any) -> None:
        self.puts += 1
        super().put(item)

    async def get_batch(self) -> list[Any]:
        batch = await super().get_batch()
        self.batch_sizes.append(len(batch))
        return batch


@pytest.fixture
def counting_channel(monkeypatch: pytest.MonkeyPatch) -> type[CountingChannel]:
    CountingChannel.instances = []
    monkeypatch.setattr(invoke_module, "Channel", CountingChannel)
    return CountingChannel


async def test_a_flood_arrives_in_order_and_batches_stay_bounded(
    counting_channel: type[CountingChannel], host: PipeHost, library: FunctionLibrary
) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                for i in range(200_000):
                    yield f"data: {i}"
        """,
    )
    invocation = await start(host)
    count = 0
    out_of_order: list[tuple[int, str]] = []
    tail: list[Step] = []

    async def consume() -> None:
        nonlocal count
        async for step in invocation:
            if count < 200_000:
                assert isinstance(step, SseStep)
                if step.text != f"data: {count}\n\n" and len(out_of_order) < 5:
                    out_of_order.append((count, step.text))
                count += 1
                if count % 1000 == 0:
                    await asyncio.sleep(0.001)
            else:
                tail.append(step)

    await asyncio.wait_for(consume(), 60)
    assert out_of_order == []
    assert count == 200_000
    assert js(tail) == [STOP, DONE]
    [channel] = counting_channel.instances
    assert sum(channel.batch_sizes) == 200_002
    assert max(channel.batch_sizes) <= channel.limit, f"largest batch {max(channel.batch_sizes)} > limit {channel.limit}"


async def test_a_full_queue_at_the_end_still_gives_bounded_batches(
    counting_channel: type[CountingChannel], host: PipeHost, library: FunctionLibrary
) -> None:
    """The producer fills the queue to exactly the limit while nobody reads, then the
    stream ends: the stop chunk and [DONE] must not make a batch larger than the limit."""
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                yield "data: first"
                body["gate"].wait(5)
                for i in range(body["n"]):
                    yield f"data: {i}"
        """,
    )
    gate = threading.Event()
    invocation = await start(host, gate=gate, n=DEFAULT_LIMIT)
    iterator = invocation.__aiter__()
    first = await asyncio.wait_for(iterator.__anext__(), GUARD)
    assert js([first]) == [{"sse": "data: first\n\n"}]
    [channel] = counting_channel.instances
    gate.set()
    await eventually(lambda: channel.puts == 1 + DEFAULT_LIMIT + 2)  # every item, the stop chunk and [DONE]
    rest = await asyncio.wait_for(collect_rest(iterator), GUARD)
    assert js(rest) == [{"sse": f"data: {i}\n\n"} for i in range(DEFAULT_LIMIT)] + [STOP, DONE]
    assert max(channel.batch_sizes) <= channel.limit, f"batches {channel.batch_sizes} exceed limit {channel.limit}"


async def test_async_generator_flood_is_bounded_too(
    counting_channel: type[CountingChannel], host: PipeHost, library: FunctionLibrary
) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body):
                for i in range(30_000):
                    yield f"data: {i}"
        """,
    )
    invocation = await start(host)
    texts: list[str] = []

    async def consume() -> None:
        async for step in invocation:
            texts.append(step.text)  # type: ignore[union-attr]
            if len(texts) % 1000 == 0:
                await asyncio.sleep(0.001)

    await asyncio.wait_for(consume(), GUARD)
    assert texts[:-2] == [f"data: {i}\n\n" for i in range(30_000)]
    [channel] = counting_channel.instances
    assert max(channel.batch_sizes) <= channel.limit


# -- (e) events and chunks stay interleaved -------------------------------------------


async def test_events_and_chunks_keep_production_order(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body, __event_emitter__=None):
                for i in range(1000):
                    await __event_emitter__({"type": "status", "data": {"i": i}})
                    yield f"data: {i}"
        """,
    )
    steps = await asyncio.wait_for(collect(await start(host)), GUARD)
    expected: list[dict[str, Any]] = []
    for i in range(1000):
        expected += [{"event": {"type": "status", "data": {"i": i}}}, {"sse": f"data: {i}\n\n"}]
    assert js(steps) == expected + [STOP, DONE]
    assert sum(isinstance(s, EventStep) for s in steps) == 1000


# -- (f) a slow pipes() cannot stall the model list -----------------------------------


async def test_slow_pipes_listing_times_out_alone(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    def pipes(self):\n        return [{'id': 'a', 'name': 'A'}]\n    def pipe(self, body):\n        return 'x'\n", fid="fast")
    await add(
        library,
        """
        import threading

        class Pipe:
            def __init__(self):
                self.release = threading.Event()

            def pipes(self):
                self.release.wait(30)
                return [{"id": "late", "name": "Late"}]

            def pipe(self, body):
                return "x"
        """,
        fid="slow",
    )
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return 'x'\n", fid="single")
    try:
        listing = await asyncio.wait_for(host.list_models(timeout=0.5), GUARD)
        assert [m["id"] for m in listing.models] == ["fast.a", "single"]
        assert listing.errors == {"slow": "listing models took longer than 0.5 s; skipped"}
        row = await store.functions.get("slow")
        assert row is not None and row.is_active is True
    finally:
        cached = host.cache.cached("slow")
        if cached is not None:
            cached.instance.release.set()


# -- (g) one shared instance for concurrent calls -------------------------------------


async def test_concurrent_async_calls_share_one_instance(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import asyncio

        INITS = []

        class Pipe:
            def __init__(self):
                INITS.append(1)

            async def pipe(self, body):
                state = body["state"]
                state["ids"].append(id(self))
                if len(state["ids"]) == 2:
                    state["both"].set()
                await asyncio.wait_for(state["both"].wait(), 5)
                return f"done inits={len(INITS)}"
        """,
    )
    state = {"ids": [], "both": asyncio.Event()}
    first, second = await start(host, state=state), await start(host, state=state)
    a, b = await asyncio.wait_for(asyncio.gather(collect(first), collect(second)), GUARD)
    assert js(a) == js(b) == [chunk("p", "done inits=1"), STOP, DONE]
    assert len(state["ids"]) == 2 and state["ids"][0] == state["ids"][1]


