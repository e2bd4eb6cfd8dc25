"""The `open_webui` stand-ins as pipes use them inside a host: a pipe calling another
model through `open_webui.utils.chat`, and each host's pipes seeing that host's own
database, on the event loop, in worker threads and while their module loads."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from tests.tracing import ORACLE_METADATA, collect, replier
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.trace import CallStep, EventStep, Step
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps

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
                    return f"{sorted(state.MODELS)} {sorted(state.FUNCTIONS)} {sorted(state.FUNCTION_CONTENTS)} {state.config!r}"
            """
        ),
        function_id="p",
    )
    await host.list_models()
    assert await text_of(host, "p.m") == "['p.m'] ['p'] ['p'] State({})"
