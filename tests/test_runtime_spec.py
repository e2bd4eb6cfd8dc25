"""Spec §12 tests 13-49, 54-63 and 82-85 not already covered by the recorded conformance
cases, plus `__event_call__` and event snapshots. Every trace is exact."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tests.tracing import (
    ORACLE_METADATA,
    collect,
    normalise,
    oracle_user,
    replier,
    trace,
)
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.invoke import refused_call_error
from tuichat.runtime.invocation.talk_back import NO_HANDLER_ERROR
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store

# -- expected-line builders (spec §12 notation) ---------------------------------------


def _dumps(obj: Any) -> str:
    """orjson's compact form for plain data (Open WebUI's default JSONCodec)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _chunk(model: str, finish: str | None, delta: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{model}-<uuid>",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": finish, "delta": delta}],
        "object": "chat.completion.chunk",
    }


def SSE(text: str) -> dict[str, Any]:
    return {"sse": text}


def CHUNK(model: str, content: str) -> dict[str, Any]:
    return SSE(f"data: {_dumps(_chunk(model, None, {'content': content}))}\n\n")


def STOP(model: str) -> dict[str, Any]:
    return SSE(f"data: {_dumps(_chunk(model, 'stop', {}))}\n\n")


DONE = SSE("data: [DONE]")


def ERRL(detail: str) -> dict[str, Any]:
    return SSE(f"data: {_dumps({'error': {'detail': detail}})}\n\n")


def _completion(model: str) -> dict[str, Any]:
    return {
        "id": f"{model}-<uuid>",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": "stop"}],
        "object": "chat.completion",
    }


def COMP(model: str, content: str) -> dict[str, Any]:
    comp = _completion(model)
    comp["choices"][0]["message"] = {"role": "assistant", "content": content}
    return {"response": comp}


def COMP0(model: str) -> dict[str, Any]:
    return {"response": _completion(model)}


def RESPONSE(data: Any) -> dict[str, Any]:
    return {"response": data}


def RAISED(kind: str, message: str) -> dict[str, Any]:
    return {"raised": {"type": kind, "message": message}}


def EVENT(event: Any) -> dict[str, Any]:
    return {"event": event}


def CALL(event: Any, reply: Any) -> dict[str, Any]:
    return {"call": event, "reply": reply}


# -- helpers --------------------------------------------------------------------------


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


async def add(library: FunctionLibrary, source: str, fid: str = "p", **kwargs: Any) -> None:
    await library.add(src(source), function_id=fid, **kwargs)


async def run(
    host: PipeHost,
    model: str = "p",
    *,
    stream: bool,
    metadata: dict[str, Any] | None = ORACLE_METADATA,
    event_call: Any = None,
    extra: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Like tests.tracing.trace, with extra body keys, any metadata and any call handler."""
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream, **(extra or {})}
    invocation = await host.invoke(
        model,
        body,
        metadata=None if metadata is None else dict(metadata),
        user=await oracle_user(host),
        event_call=event_call,
    )
    return [normalise(step.to_json()) for step in await collect(invocation)]


async def text_of(host: PipeHost, model: str = "p", **kwargs: Any) -> str:
    steps = await run(host, model, stream=False, **kwargs)
    assert len(steps) == 1 and "response" in steps[0], steps
    return steps[0]["response"]["choices"][0]["message"]["content"]


# -- model listing (13-21) ------------------------------------------------------------


async def test_13_single_pipe_uses_the_db_name(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def __init__(self):
                self.name = "X"

            def pipe(self, body):
                return "x"
        """,
        fid="single",
        name="Name_single",
    )
    row = await store.functions.get("single")
    assert row is not None
    listing = await host.list_models()
    assert listing.models == [
        {
            "id": "single",
            "name": "Name_single",
            "object": "model",
            "created": row.created_at,
            "owned_by": "openai",
            "pipe": {"type": "pipe"},
            "has_user_valves": False,
        }
    ]
    assert listing.errors == {}


async def test_14_manifold_name_is_a_prefix_without_separator(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def __init__(self):
                self.name = "Pre/"
                self.pipes = [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]

            def pipe(self, body):
                return body["model"]
        """,
        fid="mlist",
        name="Db name is not used",
    )
    listing = await host.list_models()
    assert [(m["id"], m["name"]) for m in listing.models] == [("mlist.a", "Pre/A"), ("mlist.b", "Pre/B")]
    assert all(m["pipe"] == {"type": "pipe"} and m["owned_by"] == "openai" for m in listing.models)


async def test_16_async_pipes_extra_keys_ignored(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipes(self):
                return [{"id": "g", "name": "G", "extra": 1}]

            def pipe(self, body):
                return "g"
        """,
        fid="masync",
    )
    listing = await host.list_models()
    assert [(m["id"], m["name"]) for m in listing.models] == [("masync.g", "G")]
    assert set(listing.models[0]) == {"id", "name", "object", "created", "owned_by", "pipe", "has_user_valves"}


@pytest.mark.parametrize("kind", ["def", "async def"])
async def test_17_pipes_raising_gives_no_models_and_stays_active(
    kind: str, store: Store, host: PipeHost, library: FunctionLibrary
) -> None:
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return 'ok'\n", fid="other")
    await add(
        library,
        f"""
        class Pipe:
            {kind} pipes(self):
                raise RuntimeError("no api key")

            def pipe(self, body):
                return "x"
        """,
        fid="mraise",
    )
    listing = await host.list_models()
    assert [m["id"] for m in listing.models] == ["other"]
    assert listing.errors == {"mraise": "pipes failed: RuntimeError: no api key"}
    row = await store.functions.get("mraise")
    assert row is not None
    assert row.is_active is True
    assert row.load_error == "pipes failed: RuntimeError: no api key"
    # the function itself still answers a direct call
    assert await run(host, "mraise.any", stream=True) == [CHUNK("mraise.any", "x"), STOP("mraise.any"), DONE]


async def test_18_empty_pipes_gives_no_models(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    pipes = []\n    def pipe(self, body):\n        return 'x'\n", fid="mempty")
    listing = await host.list_models()
    assert listing.models == []
    assert listing.errors == {}


async def test_19_missing_key_keeps_the_entries_before_it(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def __init__(self):
                self.pipes = [{"id": "ok", "name": "OK"}, {"id": "bad"}, {"id": "after", "name": "After"}]

            def pipe(self, body):
                return "x"
        """,
        fid="mnoname",
    )
    await add(
        library,
        """
        class Pipe:
            def __init__(self):
                self.name = "Pre/"

            def pipes(self):
                return [{"id": "one", "name": "One"}, {"name": "No id"}, {"id": "three", "name": "Three"}]

            def pipe(self, body):
                return "x"
        """,
        fid="mnoid",
    )
    listing = await host.list_models()
    assert [(m["id"], m["name"]) for m in listing.models] == [("mnoname.ok", "OK"), ("mnoid.one", "Pre/One")]
    assert listing.errors == {"mnoname": "pipes failed: KeyError: 'name'", "mnoid": "pipes failed: KeyError: 'id'"}
    for fid in ("mnoname", "mnoid"):
        row = await store.functions.get(fid)
        assert row is not None and row.is_active is True


async def test_20_user_valves_class_sets_has_user_valves(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        from pydantic import BaseModel

        class Pipe:
            class UserValves(BaseModel):
                U: str = "du"

            def pipes(self):
                return [{"id": "a", "name": "A"}]

            def pipe(self, body):
                return "x"
        """,
        fid="uv",
    )
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return 'x'\n", fid="plain")
    listing = await host.list_models()
    assert [(m["id"], m["has_user_valves"]) for m in listing.models] == [("uv.a", True), ("plain", False)]


VALVES_AB = """
from pydantic import BaseModel

class Pipe:
    class Valves(BaseModel):
        A: str = "da"
        B: int = 1

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body):
        return repr(self.valves)
"""


def _pydantic_text(**values: Any) -> str:
    class Valves(BaseModel):
        A: str = "da"
        B: int = 1

    try:
        Valves(**values)
    except ValidationError as exc:
        return str(exc)
    raise AssertionError("expected a ValidationError")


async def test_21_24_58_invalid_stored_valves(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, VALVES_AB)
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return 'ok'\n", fid="other")
    await store.functions.set_valves("p", {"B": "notint"})
    message = _pydantic_text(B="notint")
    assert message.startswith("1 validation error for Valves\nB\n")

    listing = await host.list_models()
    assert [m["id"] for m in listing.models] == ["other"]
    assert listing.errors == {"p": f"ValidationError: {message}"}

    # Stream: the failure comes before the SSE generator starts, so no SSE line at all.
    assert await run(host, stream=True) == [RAISED("ValidationError", message)]
    assert await run(host, stream=False) == [RAISED("ValidationError", message)]

    # Invalid valves do not deactivate the function.
    row = await store.functions.get("p")
    assert row is not None and row.is_active is True


# -- valves (23, 27-29) ---------------------------------------------------------------


async def test_23_stored_none_values_are_dropped(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, VALVES_AB)
    await store.functions.set_valves("p", {"A": "stored", "B": None})
    assert await run(host, stream=False) == [COMP("p", "Valves(A='stored', B=1)")]


async def test_27_invalid_user_valves_fall_back_to_defaults(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        from pydantic import BaseModel

        class Pipe:
            class UserValves(BaseModel):
                U: str = "du"

            def pipe(self, body, __user__):
                return f"{type(__user__['valves']).__name__}:{__user__['valves']!r}"
        """,
    )
    user = await oracle_user(host)
    await store.functions.set_user_valves("p", user["id"], {"U": 123})
    assert await run(host, stream=False) == [COMP("p", "UserValves:UserValves(U='du')")]


async def test_28_valves_are_reassigned_before_every_call(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        from pydantic import BaseModel

        class Pipe:
            class Valves(BaseModel):
                N: int = 0

            def __init__(self):
                self.valves = self.Valves()

            def pipe(self, body):
                self.valves.N += 100
                return str(self.valves.N)
        """,
    )
    assert await text_of(host) == "100"
    assert await text_of(host) == "100"
    await store.functions.set_valves("p", {"N": 5})
    assert await text_of(host) == "105"
    assert await text_of(host) == "105"


async def test_29_no_user_param_never_loads_user_valves(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        from pydantic import BaseModel

        class Pipe:
            class UserValves(BaseModel):
                U: int = 1

            def pipe(self, body, __metadata__):
                return "ok"
        """,
    )
    user = await oracle_user(host)
    await store.functions.set_user_valves("p", user["id"], {"U": "not an int"})
    assert await text_of(host) == "ok"


# -- invocation and parameters (30-36) ------------------------------------------------


async def test_30_pipe_without_body_parameter(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    def pipe(self):\n        return 'x'\n")
    detail = "Pipe.pipe() got an unexpected keyword argument 'body'"
    assert await run(host, stream=True) == [ERRL(detail)]
    assert await run(host, stream=False) == [RESPONSE({"error": {"detail": detail}})]


ALL_DUNDERS = """
import json

class Pipe:
    def pipe(
        self,
        body,
        __event_emitter__="unset",
        __event_call__="unset",
        __chat_id__="unset",
        __session_id__="unset",
        __message_id__="unset",
        __task__="unset",
        __task_body__="unset",
        __files__="unset",
        __user__="unset",
        __metadata__="unset",
        __oauth_token__="unset",
        __request__="unset",
        __tools__="unset",
    ):
        return json.dumps(
            {
                "emitter": __event_emitter__ is not None and callable(__event_emitter__),
                "caller": __event_call__ is not None and callable(__event_call__),
                "chat_id": __chat_id__,
                "session_id": __session_id__,
                "message_id": __message_id__,
                "task": __task__,
                "task_body": __task_body__,
                "files": __files__,
                "tools": __tools__,
                "metadata": __metadata__,
                "user_id": __user__["id"],
                "oauth": __oauth_token__,
                "request": type(__request__).__name__,
                "body_keys": sorted(body),
            }
        )
"""


async def test_32_every_dunder_with_metadata(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, ALL_DUNDERS)
    metadata = {
        "session_id": "s1",
        "chat_id": "c1",
        "message_id": "m1",
        "task": "title_generation",
        "task_body": {"x": 1},
        "files": [{"id": "f"}],
        "tools": {"t": 1},
        "user_id": "u1",
    }
    seen = json.loads(await text_of(host, metadata=metadata))
    assert seen == {
        "emitter": True,
        "caller": True,
        "chat_id": "c1",
        "session_id": "s1",
        "message_id": "m1",
        "task": "title_generation",
        "task_body": {"x": 1},
        "files": [{"id": "f"}],
        "tools": {"t": 1},
        "metadata": metadata,
        "user_id": "u1",
        "oauth": None,
        "request": "Request",
        "body_keys": ["messages", "model", "stream"],
    }


async def test_32_metadata_in_the_body_is_popped(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, ALL_DUNDERS)
    seen = json.loads(await text_of(host, metadata=None, extra={"metadata": {"chat_id": "c9", "files": [1]}}))
    assert seen["body_keys"] == ["messages", "model", "stream"]
    assert (seen["chat_id"], seen["files"], seen["metadata"]) == ("c9", [1], {"chat_id": "c9", "files": [1]})
    assert (seen["emitter"], seen["caller"]) == (False, False)


async def test_33_every_dunder_without_metadata(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, ALL_DUNDERS)
    seen = json.loads(await text_of(host, metadata=None))
    assert seen == {
        "emitter": False,
        "caller": False,
        "chat_id": None,
        "session_id": None,
        "message_id": None,
        "task": None,
        "task_body": None,
        "files": [],
        "tools": {},
        "metadata": {},
        "user_id": "u1",
        "oauth": None,
        "request": "Request",
        "body_keys": ["messages", "model", "stream"],
    }


async def test_34_no_session_id_means_no_emitter(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, ALL_DUNDERS)
    seen = json.loads(await text_of(host, metadata={"chat_id": "c1", "message_id": "m1"}))
    assert (seen["emitter"], seen["caller"]) == (False, False)
    assert (seen["chat_id"], seen["message_id"], seen["session_id"]) == ("c1", "m1", None)


async def test_34_emitter_and_caller_are_none_not_missing(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body, __event_emitter__="unset", __event_call__="unset"):
                return repr((__event_emitter__, __event_call__))
        """,
    )
    assert await text_of(host, metadata={"chat_id": "c1", "message_id": "m1"}) == "(None, None)"


async def test_35_filter_only_dunders_are_never_supplied(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body, __model__=None, __messages__=None, __id__="unset", __body__="unset", __features__="unset", __event__="unset"):
                return repr((__model__, __messages__, __id__, __body__, __features__, __event__))
        """,
    )
    assert await text_of(host) == "(None, None, 'unset', 'unset', 'unset', 'unset')"


async def test_35_user_is_a_fresh_dict_per_call(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body, __user__):
                seen = "marker" in __user__
                __user__["marker"] = 1
                return str(seen)
        """,
    )
    assert await text_of(host) == "False"
    assert await text_of(host) == "False"


async def test_36_dotted_model_routes_to_the_first_segment(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return body['model']\n", fid="man")
    assert await run(host, "man.sub.x", stream=True) == [CHUNK("man.sub.x", "man.sub.x"), STOP("man.sub.x"), DONE]


# -- streaming output (41-49) ---------------------------------------------------------

MIXED_GEN = """
class Pipe:
    def pipe(self, body):
        yield "a"
        yield ""
        yield 'data: {"x": 1}'
        yield {"choices": [{"delta": {"content": "D"}}]}
        yield b"bytes"
        yield "data: [DONE]"
"""


async def test_41_mixed_sync_generator_stream(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, MIXED_GEN)
    assert await run(host, stream=True) == [
        CHUNK("p", "a"),
        STOP("p"),
        SSE('data: {"x": 1}\n\n'),
        SSE('data: {"choices":[{"delta":{"content":"D"}}]}\n\n'),
        CHUNK("p", "bytes"),
        SSE("data: [DONE]\n\n"),
        STOP("p"),
        DONE,
    ]


async def test_60_mixed_sync_generator_nonstream(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, MIXED_GEN)
    assert await run(host, stream=False) == [
        COMP("p", "adata: {\"x\": 1}{'choices': [{'delta': {'content': 'D'}}]}b'bytes'data: [DONE]")
    ]


@pytest.mark.parametrize(
    ("expression", "stream_trace", "nonstream_trace"),
    [
        ("None", [STOP("p"), DONE], [COMP0("p")]),  # 42, 61
        ('["a", "b"]', [STOP("p"), DONE], [COMP0("p")]),  # 43, 61
        ('iter(["a", "b"])', [CHUNK("p", "a"), CHUNK("p", "b"), STOP("p"), DONE], [COMP0("p")]),  # 43, 61
        ("7", [STOP("p"), DONE], [COMP0("p")]),  # 82
        ('("a", "b")', [STOP("p"), DONE], [COMP0("p")]),
        ('"  hi  "', [CHUNK("p", "  hi  "), STOP("p"), DONE], [COMP("p", "  hi  ")]),  # 63
        ('""', [STOP("p"), STOP("p"), DONE], [COMP("p", "")]),  # "" is itself a stop chunk
    ],
    ids=["none", "list", "iter", "int", "tuple", "spaces", "empty"],
)
async def test_42_43_61_63_82_plain_returns(
    expression: str,
    stream_trace: list[dict[str, Any]],
    nonstream_trace: list[dict[str, Any]],
    host: PipeHost,
    library: FunctionLibrary,
) -> None:
    await add(library, f"class Pipe:\n    def pipe(self, body):\n        return {expression}\n")
    assert await run(host, stream=True) == stream_trace
    assert await run(host, stream=False) == nonstream_trace


AITER_ONLY = """
class Twice:
    def __init__(self):
        self.n = 0

    def __aiter__(self):
        return self

    async def __anext__(self):
        self.n += 1
        if self.n > 2:
            raise StopAsyncIteration
        return "z"

class Pipe:
    def pipe(self, body):
        return Twice()
"""


async def test_44_plain_async_iterator_is_dropped(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, AITER_ONLY)
    assert await run(host, stream=True) == [STOP("p"), DONE]
    assert await run(host, stream=False) == [COMP0("p")]


async def test_45_sync_pipe_returning_an_async_generator(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                async def inner():
                    yield "q"
                return inner()
        """,
    )
    assert await run(host, stream=True) == [CHUNK("p", "q"), STOP("p"), DONE]
    assert await run(host, stream=False) == [COMP("p", "q")]


async def test_45_async_pipe_returning_a_sync_generator(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body):
                def inner():
                    yield "q"
                return inner()
        """,
    )
    assert await run(host, stream=True) == [CHUNK("p", "q"), STOP("p"), DONE]
    assert await run(host, stream=False) == [COMP("p", "q")]


async def test_46_62_returned_dict(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return {'choices': [{'message': {'content': 'dict!'}}]}\n")
    assert await run(host, stream=True) == [SSE('data: {"choices":[{"message":{"content":"dict!"}}]}\n\n')]
    assert await run(host, stream=False) == [RESPONSE({"choices": [{"message": {"content": "dict!"}}]})]


BM = """
from pydantic import BaseModel

class R(BaseModel):
    choices: list

class Pipe:
    def pipe(self, body):
        {action} R(choices=[{{"delta": {{"content": "bm"}}}}])
"""


async def test_47_62_returned_pydantic_model(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, BM.format(action="return"))
    assert await run(host, stream=True) == [STOP("p"), DONE]
    assert await run(host, stream=False) == [RESPONSE({"choices": [{"delta": {"content": "bm"}}]})]


async def test_47_62_yielded_pydantic_model(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, BM.format(action="yield"))
    assert await run(host, stream=True) == [SSE('data: {"choices":[{"delta":{"content":"bm"}}]}\n\n'), STOP("p"), DONE]
    assert await run(host, stream=False) == [COMP("p", "choices=[{'delta': {'content': 'bm'}}]")]


STREAMING_RESPONSE = """
class StreamingResponse:
    def __init__(self, content, media_type=None):
        self.body_iterator = content
        self.media_type = media_type

class Pipe:
    def pipe(self, body):
        {iterator}
        return StreamingResponse(gen(), media_type="text/event-stream")
"""


@pytest.mark.parametrize("kind", ["async def", "def"])
async def test_48_streaming_response_body(kind: str, host: PipeHost, library: FunctionLibrary) -> None:
    iterator = (
        f"{kind} gen():\n"
        "            yield b'data: {\"choices\":[{\"delta\":{\"content\":\"sr\"}}]}\\n\\n'\n"
        "            yield 'data: [DONE]\\n\\n'"
    )
    await add(library, STREAMING_RESPONSE.format(iterator=iterator))
    assert await run(host, stream=True) == [
        {"sse": 'data: {"choices":[{"delta":{"content":"sr"}}]}\n\n', "bytes": True},
        SSE("data: [DONE]\n\n"),
    ]


async def test_48_streaming_response_body_raising_gives_an_error_line(host: PipeHost, library: FunctionLibrary) -> None:
    """The StreamingResponse branch sits inside stream_content's try (spec §7.2)."""
    iterator = (
        "async def gen():\n"
        "            yield 'data: one\\n\\n'\n"
        "            raise ConnectionError('upstream closed')"
    )
    await add(library, STREAMING_RESPONSE.format(iterator=iterator))
    assert await run(host, stream=True) == [SSE("data: one\n\n"), ERRL("upstream closed")]


async def test_49_raw_sse_lines_and_newlines(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                yield b'data: {"choices":[{"delta":{"content":"A"}}]}\\n'
                yield b"\\n"
                yield "data: hello"
                yield ""
        """,
    )
    assert await run(host, stream=True) == [
        SSE('data: {"choices":[{"delta":{"content":"A"}}]}\n\n\n'),
        CHUNK("p", "\n"),
        SSE("data: hello\n\n"),
        STOP("p"),
        STOP("p"),
        DONE,
    ]


# -- errors (54, 55) ------------------------------------------------------------------


async def test_54_async_pipe_raising_on_call(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    async def pipe(self, body):\n        raise RuntimeError('bad key')\n")
    assert await run(host, stream=True) == [ERRL("bad key")]
    assert await run(host, stream=False) == [RESPONSE({"error": {"detail": "bad key"}})]


async def test_54_error_detail_is_json_escaped(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    def pipe(self, body):\n        raise ValueError('say \"no\"\\nthen é')\n")
    assert await run(host, stream=True) == [SSE('data: {"error":{"detail":"say \\"no\\"\\nthen é"}}\n\n')]


async def test_55_sync_generator_raising_mid_stream(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                yield "partial"
                raise ValueError("boom")
        """,
    )
    assert await run(host, stream=True) == [CHUNK("p", "partial"), RAISED("ValueError", "boom")]
    assert await run(host, stream=False) == [RAISED("ValueError", "boom")]


async def test_57_async_generator_yielding_none(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body):
                yield "ok"
                yield None
        """,
    )
    assert await run(host, stream=True) == [
        CHUNK("p", "ok"),
        RAISED("AttributeError", "'NoneType' object has no attribute 'startswith'"),
    ]
    assert await run(host, stream=False) == [COMP("p", "okNone")]


# -- edge cases (83-85) ---------------------------------------------------------------


async def test_83_sync_pipe_returning_a_coroutine(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                async def c():
                    body["ran"].append(1)
                    return "never"
                return c()
        """,
    )
    ran: list[int] = []
    assert await run(host, stream=True, extra={"ran": ran}) == [STOP("p"), DONE]
    assert await run(host, stream=False, extra={"ran": ran}) == [COMP0("p")]
    assert ran == []


async def test_83_decorator_hiding_async_def(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import functools

        def logged(f):
            @functools.wraps(f)
            def wrapper(*args, **kwargs):
                return f(*args, **kwargs)
            return wrapper

        class Pipe:
            @logged
            async def pipe(self, body):
                body["ran"].append(1)
                return "never"
        """,
    )
    ran: list[int] = []
    assert await run(host, stream=True, extra={"ran": ran}) == [STOP("p"), DONE]
    assert await run(host, stream=False, extra={"ran": ran}) == [COMP0("p")]
    assert ran == []


async def test_84_json_encoding_raw_utf8_and_js_escapes(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                yield "é"
                yield {"a": "\\u2028", "b": "\\u2029", "c": "\\x85", "d": "é"}
                yield "x\\u2028y"
        """,
    )
    assert await run(host, stream=True) == [
        SSE(
            'data: {"id":"p-<uuid>","created":0,"model":"p","choices":[{"index":0,"logprobs":null,'
            '"finish_reason":null,"delta":{"content":"é"}}],"object":"chat.completion.chunk"}\n\n'
        ),
        SSE('data: {"a":"\\u2028","b":"\\u2029","c":"\\u0085","d":"é"}\n\n'),
        SSE(
            'data: {"id":"p-<uuid>","created":0,"model":"p","choices":[{"index":0,"logprobs":null,'
            '"finish_reason":null,"delta":{"content":"x\\u2028y"}}],"object":"chat.completion.chunk"}\n\n'
        ),
        STOP("p"),
        DONE,
    ]


async def test_84_returned_dict_escapes_u2028(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return {'a': '\\u2028é'}\n")
    assert await run(host, stream=True) == [SSE('data: {"a":"\\u2028é"}\n\n')]


async def test_85_manifold_sub_id_with_dots_and_dashes(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            def pipes(self):
                return [{"id": "gpt-4.1", "name": "GPT 4.1"}]

            def pipe(self, body):
                return body["model"]
        """,
        fid="m",
    )
    listing = await host.list_models()
    assert [(m["id"], m["name"]) for m in listing.models] == [("m.gpt-4.1", "GPT 4.1")]
    assert await run(host, "m.gpt-4.1", stream=True) == [CHUNK("m.gpt-4.1", "m.gpt-4.1"), STOP("m.gpt-4.1"), DONE]
    assert await run(host, "m.gpt-4.1", stream=False) == [COMP("m.gpt-4.1", "m.gpt-4.1")]


# -- __event_call__ and events --------------------------------------------------------

ASK = """
import json

class Pipe:
    async def pipe(self, body, __event_call__=None):
        reply = await __event_call__({event})
        return json.dumps(reply)
"""

CONFIRM = {"type": "confirmation", "data": {"title": "T", "message": "Sure?"}}


async def test_event_call_without_handler_answers_an_error(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, ASK.format(event=repr(CONFIRM)))
    reply = {"error": NO_HANDLER_ERROR}
    assert await run(host, stream=True, event_call=None) == [
        CALL(CONFIRM, reply),
        CHUNK("p", json.dumps(reply)),
        STOP("p"),
        DONE,
    ]


@pytest.mark.parametrize(
    "event",
    [
        {"type": "execute", "data": {"code": "return 6*7"}},
        {"type": "mystery", "data": {}},
        {"type": "request:user_input", "data": {"questions": []}},
        {"data": {"no": "type"}},
    ],
    ids=["execute", "unknown", "user_input", "untyped"],
)
async def test_event_call_of_any_type_goes_to_the_front_end(
    event: dict[str, Any], host: PipeHost, library: FunctionLibrary
) -> None:
    """A scripted front end (`tuichat run --reply`) answers every type; one that cannot show
    a type (the TUI's dialogs for `execute`) answers it with an error dict itself."""
    await add(library, ASK.format(event=repr(event)))
    asked: list[Any] = []

    async def scripted(e: Any) -> Any:
        asked.append(e)
        return 42

    assert await run(host, stream=False, event_call=scripted) == [CALL(event, 42), COMP("p", "42")]
    assert asked == [event]

    async def refusing(e: Any) -> Any:
        return {"error": refused_call_error(e.get("type"))}

    reply = {"error": refused_call_error(event.get("type"))}
    assert await run(host, stream=False, event_call=refusing) == [CALL(event, reply), COMP("p", json.dumps(reply))]


async def test_event_call_handler_raising_gives_an_error_dict(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, ASK.format(event=repr(CONFIRM)))

    async def handler(e: Any) -> Any:
        raise OSError("tty gone")

    reply = {"error": "the event call failed: tty gone"}
    assert await run(host, stream=False, event_call=handler) == [CALL(CONFIRM, reply), COMP("p", json.dumps(reply))]


async def test_event_call_step_records_the_reply_in_order(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body, __event_call__=None, __event_emitter__=None):
                a = await __event_call__({"type": "confirmation", "data": {"title": "T", "message": "Go?"}})
                yield f"a={a}"
                b = await __event_call__({"type": "input", "data": {"title": "N", "message": "Name?", "placeholder": "name"}})
                await __event_emitter__({"type": "status", "data": {"description": b, "done": True}})
                yield f" b={b}"
        """,
    )
    asked: list[Any] = []
    answers = replier([False, "Bob"])

    async def handler(e: Any) -> Any:
        asked.append(e["type"])
        return await answers(e)

    assert await run(host, stream=True, event_call=handler) == [
        CALL({"type": "confirmation", "data": {"title": "T", "message": "Go?"}}, False),
        CHUNK("p", "a=False"),
        CALL({"type": "input", "data": {"title": "N", "message": "Name?", "placeholder": "name"}}, "Bob"),
        EVENT({"type": "status", "data": {"description": "Bob", "done": True}}),
        CHUNK("p", " b=Bob"),
        STOP("p"),
        DONE,
    ]
    assert asked == ["confirmation", "input"]


async def test_events_are_snapshot_when_emitted(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body, __event_emitter__=None, __event_call__=None):
                event = {"type": "status", "data": {"description": "one", "done": False}}
                await __event_emitter__(event)
                event["data"]["description"] = "two"
                event["data"]["done"] = True
                await __event_emitter__(event)
                ask = {"type": "input", "data": {"title": "first"}}
                reply = await __event_call__(ask)
                ask["data"]["title"] = "changed"
                reply["name"] = "changed"
                return "ok"
        """,
    )
    steps = await run(host, stream=False, event_call=replier([{"name": "Bob"}]))
    assert steps == [
        EVENT({"type": "status", "data": {"description": "one", "done": False}}),
        EVENT({"type": "status", "data": {"description": "two", "done": True}}),
        CALL({"type": "input", "data": {"title": "first"}}, {"name": "Bob"}),
        COMP("p", "ok"),
    ]


async def test_internal_metadata_silences_notifications(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body, __event_emitter__=None):
                await __event_emitter__({"type": "notification", "data": {"type": "info", "content": "hidden"}})
                await __event_emitter__({"type": "status", "data": {"description": "shown"}})
                return "ok"
        """,
    )
    steps = await run(host, stream=False, metadata={**ORACLE_METADATA, "internal": True})
    assert steps == [EVENT({"type": "status", "data": {"description": "shown"}}), COMP("p", "ok")]
    steps = await run(host, stream=False)
    assert steps == [
        EVENT({"type": "notification", "data": {"type": "info", "content": "hidden"}}),
        EVENT({"type": "status", "data": {"description": "shown"}}),
        COMP("p", "ok"),
    ]


async def test_trace_helper_agrees_with_run(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return body['messages'][-1]['content']\n")
    assert await trace(host, "p", "hi", stream=True) == [CHUNK("p", "hi"), STOP("p"), DONE]
    assert await trace(host, "p", "hi", stream=True) == await run(host, stream=True)
