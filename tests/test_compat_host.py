"""The `open_webui` stand-ins as pipes use them inside a host: a pipe calling another
model through `open_webui.utils.chat`, and each host's pipes seeing that host's own
database and data folder, on the event loop, in worker threads and while their module
loads; and outside any host, an error saying why."""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from tests.local_host import LocalHost
from tests.tracing import ORACLE_METADATA, collect, replier
from tuichat.compat import NotInHost
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.trace import CallStep, EventStep, Step
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps
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



STREAM_MODES = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


async def run(host: PipeHost, model: str, *, stream: bool, replies: Any = None) -> list[Step]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    invocation = await host.invoke(model, body, metadata=dict(ORACLE_METADATA), event_call=replier(replies))
    return await collect(invocation)


async def text_of(host: PipeHost, model: str, *, stream: bool = False) -> str:
    reply = reply_from_steps(await run(host, model, stream=stream))
    assert reply.error is None, reply.error
    return reply.content


# -- a pipe calling another model -------------------------------------------------------------

# Calls `inner` with the outer stream mode; says what came back, or what was raised.
OUTER = """
    from open_webui.models.users import Users
    from open_webui.utils.chat import generate_chat_completion

    class Pipe:
        async def pipe(self, body, __user__, __request__):
            user = await Users.get_user_by_id(__user__["id"])
            form = {"model": "inner", "messages": body["messages"], "stream": body["stream"]}
            try:
                response = await generate_chat_completion(__request__, form, user)
                if not body["stream"]:
                    return f"got {response!r}"
                items = [item async for item in response.body_iterator]
            except Exception as exc:
                return f"failed: {exc}"
            return f"got {len(items)} items, last {items[-1]!r}"
"""

# Emits a status, asks for input, streams the answer; "boom" in the message makes it raise.
INNER = """
    class Pipe:
        async def pipe(self, body, __event_emitter__, __event_call__):
            await __event_emitter__({"type": "status", "data": {"description": "inner at work"}})
            answer = await __event_call__({"type": "input", "data": {"title": "Name?"}})
            if not body["stream"]:
                return f"inner heard {answer}"

            async def chunks():
                yield f"inner heard {answer}"
                if "boom" in body["messages"][-1]["content"]:
                    raise ValueError("inner broke mid-stream")

            return chunks()
"""


@STREAM_MODES
async def test_a_nested_calls_events_and_event_calls_reach_the_outer_reply(
    host: PipeHost, library: FunctionLibrary, stream: bool
) -> None:
    await library.add(src(INNER), function_id="inner")
    await library.add(src(OUTER), function_id="outer")
    steps = await run(host, "outer", stream=stream, replies=["Ada"])

    events = [step.event for step in steps if isinstance(step, EventStep)]
    assert {"type": "status", "data": {"description": "inner at work"}} in events
    (call,) = [step for step in steps if isinstance(step, CallStep)]
    assert (call.event, call.reply) == ({"type": "input", "data": {"title": "Name?"}}, "Ada")
    content = reply_from_steps(steps).content
    if stream:
        assert content == "got 3 items, last 'data: [DONE]'"
    else:
        assert content.startswith("got {") and "'content': 'inner heard Ada'" in content


async def test_a_nested_stream_that_raises_fails_the_outer_iteration(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src(INNER), function_id="inner")
    await library.add(src(OUTER), function_id="outer")
    body = {"model": "outer", "messages": [{"role": "user", "content": "boom"}], "stream": True}
    steps = await collect(await host.invoke("outer", body, metadata=dict(ORACLE_METADATA), event_call=replier(["x"])))
    assert reply_from_steps(steps).content == "failed: inner broke mid-stream"


@STREAM_MODES
async def test_a_nested_call_to_a_disabled_model_fails_at_the_call(
    host: PipeHost, library: FunctionLibrary, stream: bool
) -> None:
    await library.add(src(INNER), function_id="inner")
    await library.add(src(OUTER), function_id="outer")
    await host.list_models()
    await library.disable("inner")
    content = await text_of(host, "outer", stream=stream)
    assert content.startswith("failed: model 'inner' belongs to function 'inner', which is disabled")


async def test_open_webui_main_routes_to_the_same_call(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src(INNER), function_id="inner")
    await library.add(
        src(
            """
            from open_webui.main import generate_chat_completions
            from open_webui.models.users import Users

            class Pipe:
                async def pipe(self, body, __user__, __request__):
                    user = Users.get_user_by_id(__user__["id"])
                    form = {"model": "inner", "messages": body["messages"], "stream": False}
                    response = await generate_chat_completions(__request__, form, user)
                    return response["choices"][0]["message"]["content"]
            """
        ),
        function_id="outer",
    )
    steps = await run(host, "outer", stream=False, replies=["Bo"])
    assert reply_from_steps(steps).content == "inner heard Bo"


async def test_the_request_shows_pipes_what_open_webui_shows(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(
        src(
            """
            class Pipe:
                def pipes(self):
                    return [{"id": "m", "name": "M"}]

                def pipe(self, body, __request__):
                    state = __request__.app.state
                    return f"{sorted(state.MODELS)} {sorted(state.FUNCTIONS)} {sorted(state.FUNCTION_CONTENTS)} {type(state.config).__name__} {state.config.TOOL_SERVER_CONNECTIONS}"
            """
        ),
        function_id="p",
    )
    await host.list_models()
    assert await text_of(host, "p.m") == "['p.m'] ['p'] ['p'] AppConfig []"


# -- each host's pipes see that host's own database -------------------------------------------

# What a pipe sees through `open_webui`: its module's top level runs while it loads, `pipes()`
# while the host lists models, and `pipe` on a worker thread (it is sync) while it is called.
REPORTER = """
    import threading

    from open_webui.config import DATA_DIR
    from open_webui.models.functions import Functions
    from open_webui.models.users import Users

    AT_LOAD = Users.get_first_user().id

    class Pipe:
        def pipes(self):
            return [{"id": f.id, "name": f.name} for f in Functions.get_functions()]

        def pipe(self, body, __user__):
            functions = ",".join(f.id for f in Functions.get_functions())
            user = Users.get_user_by_id(__user__["id"])
            return f"{threading.current_thread().name}|{AT_LOAD}|{user.id}|{functions}|{DATA_DIR}"
"""


async def open_host(folder: Path, *function_ids: str) -> PipeHost:
    """A host on a new database in `folder`, holding the reporter under each id."""
    store = await Store.open(folder / "tuichat.db")
    for function_id in function_ids:
        await store.functions.insert(function_id, name=function_id.title(), type="pipe", content=src(REPORTER))
    return PipeHost(store)


async def test_two_hosts_in_one_process_each_see_their_own_database(tmp_path: Path) -> None:
    first = await open_host(tmp_path / "first", "alpha", "gamma")
    second = await open_host(tmp_path / "second", "beta")
    try:
        first_listing, second_listing = await asyncio.gather(first.list_models(), second.list_models())
        assert [m["id"] for m in first_listing.models] == ["alpha.alpha", "alpha.gamma", "gamma.alpha", "gamma.gamma"]
        assert [m["id"] for m in second_listing.models] == ["beta.beta"]

        seen = await asyncio.gather(text_of(first, "alpha.gamma"), text_of(second, "beta.beta"))
        for host, text, functions in zip((first, second), seen, ("alpha,gamma", "beta")):
            user_id = (await host.store.users.local())["id"]
            _, at_load, user, listed, data_dir = text.split("|")
            assert (at_load, user, listed, data_dir) == (user_id, user_id, functions, str(host.store.path.parent))
    finally:
        await first.close()
        await second.close()
        await first.store.close()
        await second.store.close()


async def test_a_sync_pipe_on_the_loop_sees_its_host(host: PipeHost, store: Store) -> None:
    await store.functions.insert("p", name="P", type="pipe", content=src(REPORTER))
    thread, _, user, listed, _ = (await text_of(host, "p.p")).split("|")
    assert thread == "MainThread" and user == (await store.users.local())["id"] and listed == "p"


async def test_sync_generators_and_own_event_loops_in_worker_threads_see_their_host(host: PipeHost, store: Store) -> None:
    source = """
        import asyncio
        import contextvars
        import threading

        from open_webui.models.users import Users

        class Pipe:
            def pipe(self, body, __user__):
                async def email():
                    return (await Users.get_user_by_id(__user__["id"])).email

                # A sync pipe runs on the loop, so it awaits 0.12's tables in a thread's own loop
                # (a thread that copies the context, as asyncio.to_thread does).
                found = []
                context = contextvars.copy_context()
                worker = threading.Thread(target=context.run, args=(lambda: found.append(asyncio.run(email())),))
                worker.start()
                worker.join()
                yield found[0]
                yield " " + Users.get_user_by_id(__user__["id"]).role
    """
    await store.functions.insert("p", name="P", type="pipe", content=src(source))
    assert await text_of(host, "p", stream=True) == "admin@localhost admin"


async def test_open_webui_outside_any_host_fails_at_use_saying_why(host: PipeHost) -> None:
    """A pipe module imported outside a host imports fine; using the tables is the error."""
    source = src(
        """
        from open_webui.models.users import Users

        def lookup():
            return Users.get_first_user()
        """
    )

    def outside_any_host() -> None:
        module = types.ModuleType("function_outside_probe")
        exec(compile(source, "<outside>", "exec"), module.__dict__)
        with pytest.raises(NotInHost, match="outside a tuichat pipe host"):
            module.lookup()
        with pytest.raises(NotInHost):
            importlib.import_module("open_webui.config").DATA_DIR  # noqa: B018

    contextvars.Context().run(outside_any_host)
    with host.bound():
        from open_webui.models.users import Users

        assert Users.get_first_user().id == (await host.store.users.local())["id"]  # type: ignore[union-attr]
