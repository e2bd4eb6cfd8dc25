"""Pipes written the way published Open WebUI functions are, run unchanged in tuichat.

Each pipe under `tests/published/` is stored with `library.add`, given its valves
with `library.set_valves`, and run through `host.invoke` in both stream modes with
a UI chat's metadata. The HTTP ones talk to the local OpenAI-compatible server of
`tests/openai_server.py`, which records what it was sent.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests.openai_server import (
    API_KEY,
    OpenAIServer,
    completion,
    openai_server_fixture,  # noqa: F401 - the `openai_server` fixture
    reply_text,
    sse_events,
    stream_pieces,
    usage_for,
)
from tests.tracing import ORACLE_METADATA, collect, normalise, replier
from tuichat.runtime.host import PipeHost, make_body
from tuichat.runtime.invocation.talk_back import NO_HANDLER_ERROR
from tuichat.runtime.invocation.trace import CallStep, SseStep, Step
from tuichat.runtime.library import FunctionLibrary, example_source
from tuichat.runtime.loading.frontmatter import extract_frontmatter, parse_requirements
from tuichat.runtime.reply.builder import reply_from_steps
from tuichat.runtime.reply.model import Reply

PUBLISHED = Path(__file__).parent / "published"
STREAM_MODES = pytest.mark.parametrize("stream", [True, False], ids=["stream", "nonstream"])
HELLO = [{"role": "user", "content": "hello there"}]
# Requirements a published pipe may name that are not import names.
IMPORT_NAMES = {"pydantic-core": "pydantic_core"}


def source(stem: str) -> str:
    return (PUBLISHED / f"{stem}.py").read_text(encoding="utf-8")


async def add(library: FunctionLibrary, stem: str, valves: dict[str, Any] | None = None) -> None:
    await library.add(source(stem), function_id=stem)
    if valves:
        await library.set_valves(stem, valves)


async def run(
    host: PipeHost,
    model: str,
    messages: list[dict[str, Any]] | None = None,
    *,
    stream: bool,
    metadata: dict[str, Any] | None = None,
    replies: Any = None,
    handler: bool = True,
    user: dict[str, Any] | None = None,
) -> tuple[Reply, list[Step]]:
    body = make_body(model, [dict(m) for m in (messages or HELLO)], stream=stream)
    invocation = await host.invoke(
        model,
        body,
        metadata=dict(ORACLE_METADATA) if metadata is None else metadata,
        user=user,
        event_call=replier(replies) if handler else None,
    )
    steps = await collect(invocation)
    return reply_from_steps(steps), steps


def sse_texts(steps: list[Step]) -> list[str]:
    return [step.text for step in steps if isinstance(step, SseStep)]


def stop_line(model: str) -> str:
    """Open WebUI's stop chunk for `model`, normalised (spec §7.1)."""
    return (
        f'data: {{"id":"{model}-<uuid>","created":0,"model":"{model}","choices":[{{"index":0,"logprobs":null,'
        '"finish_reason":"stop","delta":{}}],"object":"chat.completion.chunk"}\n\n'
    )


def assert_tuichat_ending(steps: list[Step], model: str) -> None:
    """Open WebUI ends a pipe's own stream with a stop chunk and `data: [DONE]` (spec §7.2)."""
    assert normalise(sse_texts(steps))[-2:] == [stop_line(model), "data: [DONE]"]


def upstream_usage(model: str, messages: list[dict[str, Any]]) -> dict[str, int]:
    return usage_for(messages, reply_text(model, messages))


async def local_user(host: PipeHost) -> dict[str, Any]:
    return await host.store.users.local()


# -- the published sources themselves --------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PUBLISHED.glob("*.py")), ids=lambda p: p.stem)
def test_published_sources_have_frontmatter_and_installed_requirements(path: Path) -> None:
    frontmatter = extract_frontmatter(path.read_text(encoding="utf-8"))
    for key in ("title", "author", "version", "description"):
        assert frontmatter.get(key), f"{path.name}: no {key} in the frontmatter"
    for requirement in parse_requirements(frontmatter.get("requirements", "")):
        name = IMPORT_NAMES.get(requirement, requirement)
        assert importlib.util.find_spec(name) is not None, f"{path.name} requires {requirement}, which is not installed"


def test_there_are_at_least_ten_published_pipes() -> None:
    assert len(list(PUBLISHED.glob("*.py"))) >= 10


# -- 1. openai_manifold: requests, pipes() from /models, r.iter_lines() / r.json() ------------


async def test_manifold_lists_the_servers_chat_models(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer
) -> None:
    await add(library, "openai_manifold", {"OPENAI_API_BASE_URL": openai_server.url, "OPENAI_API_KEY": API_KEY})
    openai_server.recorder.clear()
    listing = await host.list_models()
    assert listing.errors == {}
    assert [(m["id"], m["name"]) for m in listing.models] == [
        ("openai_manifold.gpt-4o-mini", "OpenAI: gpt-4o-mini"),
        ("openai_manifold.gpt-4.1", "OpenAI: gpt-4.1"),
    ]  # the embedding model is filtered out by the pipe
    model = listing.by_id()["openai_manifold.gpt-4.1"]
    assert model["owned_by"] == "openai" and model["pipe"] == {"type": "pipe"} and model["has_user_valves"] is False
    (request,) = openai_server.recorder.model_lists()
    assert (request.method, request.path, request.authorization) == ("GET", "/v1/models", f"Bearer {API_KEY}")


async def test_manifold_with_a_wrong_key_lists_its_error_entry(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer
) -> None:
    await add(library, "openai_manifold", {"OPENAI_API_BASE_URL": openai_server.url, "OPENAI_API_KEY": "sk-wrong"})
    listing = await host.list_models()
    assert [(m["id"], m["name"]) for m in listing.models] == [
        (
            "openai_manifold.error",
            "OpenAI: Could not fetch models from OpenAI, please update the API Key in the valves.",
        )
    ]
    assert [r.authorization for r in openai_server.recorder.model_lists()] == ["Bearer sk-wrong"]


@STREAM_MODES
async def test_manifold_forwards_the_chat_with_the_sub_model(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "openai_manifold", {"OPENAI_API_BASE_URL": openai_server.url, "OPENAI_API_KEY": API_KEY})
    reply, steps = await run(host, "openai_manifold.gpt-4.1", stream=stream)
    assert (reply.content, reply.error, reply.status) == ("[gpt-4.1] You said: hello there", None, "done")
    assert reply.usage == upstream_usage("gpt-4.1", HELLO)
    (request,) = openai_server.recorder.chat()
    assert request.method == "POST" and request.authorization == f"Bearer {API_KEY}"
    # The body is forwarded whole; only the model changes to the sub id.
    assert request.json == {"model": "gpt-4.1", "messages": HELLO, "stream": stream}
    if stream:
        # iter_lines gives bytes lines: each `data:` line gets "\n\n" and passes as is, and each
        # blank separator line (b"") becomes a stop chunk mid-stream (spec §7.2 process_line).
        model = "openai_manifold.gpt-4.1"
        expected = []
        for event in sse_events("gpt-4.1", HELLO):
            expected += [f"data: {event}\n\n", stop_line(model)]
        assert normalise(sse_texts(steps)) == [*normalise(expected), stop_line(model), "data: [DONE]"]
    else:
        # r.json() is a dict: Open WebUI returns it as the response, untouched (spec §7.3).
        assert [s.to_json() for s in steps] == [{"response": completion("gpt-4.1", HELLO)}]


@STREAM_MODES
async def test_manifold_upstream_error_is_returned_as_text(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "openai_manifold", {"OPENAI_API_BASE_URL": openai_server.url, "OPENAI_API_KEY": "sk-wrong"})
    reply, _ = await run(host, "openai_manifold.gpt-4o-mini", stream=stream)
    url = f"{openai_server.url}/chat/completions"
    assert reply.content == f"Error: 401 Client Error: Unauthorized for url: {url}"
    assert reply.error is None and reply.status == "done"  # the pipe caught it: only text


# -- 2. sse_passthrough: async, upstream SSE lines passed through untouched -------------------

CLIENTS = pytest.mark.parametrize("client", ["aiohttp", "httpx", "requests"])


def need(client: str) -> None:
    if importlib.util.find_spec(client) is None:
        pytest.skip(f"{client} is not installed here")


@CLIENTS
@STREAM_MODES
async def test_passthrough_relays_upstream_sse_untouched(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool, client: str
) -> None:
    need(client)
    await add(
        library,
        "sse_passthrough",
        {"BASE_URL": openai_server.url, "API_KEY": API_KEY, "MODEL": "gpt-4o-mini", "HTTP_CLIENT": client},
    )
    reply, steps = await run(host, "sse_passthrough", stream=stream)
    assert (reply.content, reply.error) == ("[gpt-4o-mini] You said: hello there", None)
    assert reply.usage == upstream_usage("gpt-4o-mini", HELLO)
    (request,) = openai_server.recorder.chat()
    assert request.authorization == f"Bearer {API_KEY}"
    assert request.json == {"model": "gpt-4o-mini", "messages": HELLO, "stream": stream}
    if stream:
        # Every upstream event, in order, byte for byte (as str), then Open WebUI's own ending.
        expected = [f"data: {event}\n\n" for event in sse_events("gpt-4o-mini", HELLO)]
        assert sse_texts(steps)[:-2] == expected
        assert_tuichat_ending(steps, "sse_passthrough")
    else:
        # The pipe returned the upstream completion dict: it is the response as is.
        assert [s.to_json() for s in steps] == [{"response": completion("gpt-4o-mini", HELLO)}]


async def test_passthrough_stream_error_is_shown_as_text(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer
) -> None:
    await add(library, "sse_passthrough", {"BASE_URL": openai_server.url, "API_KEY": "nope", "HTTP_CLIENT": "requests"})
    reply, _ = await run(host, "sse_passthrough", stream=True)
    assert reply.content.startswith("Error: HTTP 401: ") and "Incorrect API key provided." in reply.content


# -- 3. sse_parser: the pipe parses SSE itself, with status events ----------------------------


@STREAM_MODES
async def test_parser_yields_only_the_text_with_status_around(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "sse_parser", {"BASE_URL": openai_server.url, "API_KEY": API_KEY})
    reply, steps = await run(host, "sse_parser", stream=stream)
    text = reply_text("gpt-4o-mini", HELLO)
    assert (reply.content, reply.error) == (text, None)
    assert reply.statuses == [
        {"description": "Asking gpt-4o-mini...", "done": False},
        {"description": f"Received {len(stream_pieces(text))} pieces", "done": True},
    ]
    (request,) = openai_server.recorder.chat()
    assert request.authorization == f"Bearer {API_KEY}"
    # The pipe always asks upstream for a stream, whatever Open WebUI asked of it.
    assert request.json == {"model": "gpt-4o-mini", "messages": HELLO, "stream": True}
    if stream:
        contents = [
            json.loads(t[6:])["choices"][0]["delta"].get("content") for t in sse_texts(steps)[:-1]
        ]
        assert contents == [*stream_pieces(text), None]  # one content chunk a piece, then the stop chunk
        assert_tuichat_ending(steps, "sse_parser")
    else:
        # An async generator in non-stream mode: its items joined into one completion.
        (response,) = [s.to_json()["response"] for s in steps if "response" in s.to_json()]
        assert response["choices"][0]["message"] == {"role": "assistant", "content": text}


@STREAM_MODES
async def test_parser_reports_a_failed_request(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "sse_parser", {"BASE_URL": openai_server.url, "API_KEY": "sk-wrong"})
    reply, _ = await run(host, "sse_parser", stream=stream)
    error = f"401 Client Error: Unauthorized for url: {openai_server.url}/chat/completions"
    assert reply.content == f"Error: {error}"
    assert [s["description"] for s in reply.statuses] == ["Asking gpt-4o-mini...", f"Request failed: {error}"]


# -- 4. encrypted_valves: an EncryptedStr valve, decrypted by the pipe ------------------------


@STREAM_MODES
async def test_encrypted_key_is_stored_encrypted_and_used_decrypted(
    host: PipeHost,
    library: FunctionLibrary,
    openai_server: OpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    stream: bool,
) -> None:
    monkeypatch.setenv("WEBUI_SECRET_KEY", "t0p-secret")
    await add(library, "encrypted_valves", {"BASE_URL": openai_server.url, "API_KEY": API_KEY})
    stored = (await library.get("encrypted_valves")).valves
    assert stored["API_KEY"].startswith("encrypted:") and API_KEY not in stored["API_KEY"]
    assert set(stored) == {"BASE_URL", "API_KEY"}  # only what was set, as Open WebUI stores it

    reply, _ = await run(host, "encrypted_valves", stream=stream)
    assert (reply.content, reply.error) == ("[gpt-4.1] You said: hello there", None)
    (request,) = openai_server.recorder.chat()
    assert request.authorization == f"Bearer {API_KEY}"
    assert request.json == {"model": "gpt-4.1", "messages": HELLO, "stream": stream}


async def test_encrypted_key_without_a_secret_is_stored_plain(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBUI_SECRET_KEY", raising=False)
    await add(library, "encrypted_valves", {"BASE_URL": openai_server.url, "API_KEY": API_KEY})
    assert (await library.get("encrypted_valves")).valves["API_KEY"] == API_KEY
    reply, _ = await run(host, "encrypted_valves", stream=False)
    assert reply.content == "[gpt-4.1] You said: hello there"


async def test_encrypted_key_with_a_changed_secret_no_longer_works(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBUI_SECRET_KEY", "first-secret")
    await add(library, "encrypted_valves", {"BASE_URL": openai_server.url, "API_KEY": API_KEY})
    monkeypatch.setenv("WEBUI_SECRET_KEY", "rotated-secret")
    await host.close()  # the host process reads the secret when it starts, like a restarted server
    reply, _ = await run(host, "encrypted_valves", stream=True)
    assert reply.content.startswith("Error: 401 Client Error: Unauthorized")
    (request,) = openai_server.recorder.chat()
    assert request.authorization.startswith("Bearer encrypted:")  # undecryptable: sent as stored


# -- 5. users_lookup: open_webui.models.users, sync (0.6) and async (0.12) style -------------


@pytest.mark.parametrize("legacy", [False, True], ids=["await", "legacy-sync"])
@STREAM_MODES
async def test_users_lookup_greets_the_local_user(
    host: PipeHost, library: FunctionLibrary, stream: bool, legacy: bool
) -> None:
    await add(library, "users_lookup", {"LEGACY_SYNC_LOOKUP": legacy})
    me = await local_user(host)
    reply, _ = await run(host, "users_lookup", stream=stream)
    # The legacy call gets no `await`: spec §14 asks the shim to tolerate it where it can.
    assert (reply.error, reply.content) == (None, f"Hello {me['name']}! Your role is admin and your email is admin@localhost.")


@pytest.mark.parametrize("legacy", [False, True], ids=["await", "legacy-sync"])
@STREAM_MODES
async def test_users_lookup_of_an_unknown_user(
    host: PipeHost, library: FunctionLibrary, stream: bool, legacy: bool
) -> None:
    await add(library, "users_lookup", {"LEGACY_SYNC_LOOKUP": legacy})
    reply, _ = await run(host, "users_lookup", stream=stream, user={"id": "nobody", "name": "Ghost", "role": "user"})
    assert (reply.error, reply.content) == (None, "No user with id nobody was found.")


# -- 6. calls_other_pipe: open_webui.utils.chat.generate_chat_completion ----------------------


@STREAM_MODES
async def test_calls_another_pipe_and_wraps_its_answer(host: PipeHost, library: FunctionLibrary, stream: bool) -> None:
    await library.add(example_source("echo"), function_id="echo")
    await add(library, "calls_other_pipe")
    await host.list_models()  # as in the UI, the model list is known before a chat
    reply, steps = await run(host, "calls_other_pipe", stream=stream)
    assert (reply.error, reply.content) == (None, "Other pipe said: hello there")
    if stream:
        contents = [json.loads(t[6:])["choices"][0]["delta"].get("content") for t in sse_texts(steps)[:-1]]
        assert contents == ["Other pipe said: ", "hello ", "there", None]
        assert_tuichat_ending(steps, "calls_other_pipe")


@STREAM_MODES
async def test_calls_a_model_that_does_not_exist(host: PipeHost, library: FunctionLibrary, stream: bool) -> None:
    await add(library, "calls_other_pipe", {"TARGET_MODEL": "no_such_model"})
    reply, _ = await run(host, "calls_other_pipe", stream=stream)
    assert (reply.error, reply.content) == (None, "Error calling no_such_model: Model not found")


# -- 7. ask_input: __event_call__ input dialog for a missing key ------------------------------


@STREAM_MODES
async def test_ask_input_asks_for_the_missing_key(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "ask_input", {"BASE_URL": openai_server.url})
    reply, steps = await run(host, "ask_input", stream=stream, replies=[API_KEY])
    assert (reply.error, reply.content) == (None, "[gpt-4o-mini] You said: hello there")
    (call,) = [s for s in steps if isinstance(s, CallStep)]
    assert call.event == {
        "type": "input",
        "data": {
            "title": "API key needed",
            "message": f"Enter an API key for {openai_server.url}",
            "placeholder": "sk-...",
            "type": "password",
        },
    }
    assert call.reply == {"masked": True}  # the pipe got the key (the server saw it below); the trace keeps none
    assert reply.notifications == [{"type": "info", "content": "Using the key you entered."}]
    (request,) = openai_server.recorder.chat()
    assert request.authorization == f"Bearer {API_KEY}"
    assert request.json == {"model": "gpt-4o-mini", "messages": HELLO, "stream": stream}


@STREAM_MODES
async def test_ask_input_cancelled(host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool) -> None:
    await add(library, "ask_input", {"BASE_URL": openai_server.url})
    reply, _ = await run(host, "ask_input", stream=stream, replies=[False])
    assert reply.content == "Cancelled: no API key was given."
    assert openai_server.recorder.chat() == []


async def test_ask_input_with_no_one_to_answer(host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer) -> None:
    await add(library, "ask_input", {"BASE_URL": openai_server.url})
    reply, _ = await run(host, "ask_input", stream=True, handler=False)
    assert reply.content == f"Could not ask for an API key: {NO_HANDLER_ERROR}"


async def test_ask_input_without_chat_ids_gets_no_event_call(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer
) -> None:
    await add(library, "ask_input", {"BASE_URL": openai_server.url})
    reply, steps = await run(host, "ask_input", stream=False, metadata={"user_id": "u1"}, replies=[API_KEY])
    assert reply.content == "No API key is configured and I cannot ask you for one here."
    assert not [s for s in steps if isinstance(s, CallStep)]


@STREAM_MODES
async def test_ask_input_does_not_ask_when_the_valve_is_set(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "ask_input", {"BASE_URL": openai_server.url, "API_KEY": API_KEY})
    reply, steps = await run(host, "ask_input", stream=stream, replies=["sk-not-this-one"])
    assert reply.content == "[gpt-4o-mini] You said: hello there"
    assert not [s for s in steps if isinstance(s, CallStep)]
    assert [r.authorization for r in openai_server.recorder.chat()] == [f"Bearer {API_KEY}"]


# -- 8. misc_helpers: open_webui.utils.misc and UserValves ------------------------------------


@STREAM_MODES
async def test_misc_helpers_put_the_user_persona_in_the_system_prompt(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "misc_helpers", {"BASE_URL": openai_server.url, "API_KEY": API_KEY})
    me = await local_user(host)
    await library.set_valves("misc_helpers", {"PERSONA": "pirate", "MAX_WORDS": 20}, user_id=me["id"])
    messages = [{"role": "system", "content": "Be brief."}, *HELLO]
    reply, _ = await run(host, "misc_helpers", messages, stream=stream)
    assert (reply.error, reply.content) == (None, "[gpt-4o-mini] You said: hello there")
    (request,) = openai_server.recorder.chat()
    assert request.authorization == f"Bearer {API_KEY}"
    assert request.json == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a pirate. Answer in at most 20 words.\nBe brief."},
            {"role": "user", "content": "hello there"},
        ],
        "stream": stream,
    }


@STREAM_MODES
async def test_misc_helpers_default_persona_and_no_system_prompt(
    host: PipeHost, library: FunctionLibrary, openai_server: OpenAIServer, stream: bool
) -> None:
    await add(library, "misc_helpers", {"BASE_URL": openai_server.url, "API_KEY": API_KEY})
    reply, _ = await run(host, "misc_helpers", stream=stream)
    assert reply.content == "[gpt-4o-mini] You said: hello there (no system prompt of your own)"
    (request,) = openai_server.recorder.chat()
    assert request.json["messages"] == [{"role": "system", "content": "You are a helpful assistant."}, *HELLO]


async def test_misc_helpers_lists_user_valves(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "misc_helpers")
    listing = await host.list_models()
    assert listing.by_id()["misc_helpers"]["has_user_valves"] is True


# -- 9. status_citations: status, citations and a chat:message:delta, then a str -------------


@STREAM_MODES
async def test_status_citations_fill_the_reply(host: PipeHost, library: FunctionLibrary, stream: bool) -> None:
    await add(library, "status_citations")
    reply, _ = await run(host, "status_citations", stream=stream)
    answer = "A pipe adds a model to Open WebUI. Valves are settings an admin can change."
    # The delta event shows first; a non-stream completion then replaces the text (spec §7.4).
    assert reply.content == ("Based on 2 sources:\n\n" + answer if stream else answer)
    assert reply.statuses == [
        {"description": "Searching for: hello there", "done": False},
        {"description": "Found 2 sources", "done": True},
    ]
    assert [s["source"]["name"] for s in reply.sources] == ["Pipes", "Valves"]
    assert reply.sources[0] == {
        "document": ["A pipe adds a model to Open WebUI."],
        "metadata": [{"source": "https://docs.openwebui.com/features/plugin/functions/pipe", "name": "Pipes"}],
        "source": {"name": "Pipes", "url": "https://docs.openwebui.com/features/plugin/functions/pipe"},
    }
    assert [e.data["type"] for e in reply.activity if e.kind == "event"] == [
        "status", "citation", "citation", "status", "chat:message:delta",
    ]  # fmt: skip


async def test_status_citations_without_an_emitter(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "status_citations")
    reply, _ = await run(host, "status_citations", stream=True, metadata={})
    assert reply.content == "A pipe adds a model to Open WebUI. Valves are settings an admin can change."
    assert reply.statuses == [] and reply.sources == []


# -- 10. task_aware: open_webui.constants.TASKS ----------------------------------------------


def task_metadata(task: str) -> dict[str, Any]:
    # Background tasks carry no message id, so no emitter (spec §10.3).
    metadata = {k: v for k, v in ORACLE_METADATA.items() if k != "message_id"}
    task_body = {"model": "task_aware", "messages": [{"role": "user", "content": "how do pipes work here"}]}
    return {**metadata, "task": task, "task_body": task_body}


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ("title_generation", {"title": "How Do Pipes Work"}),
        ("tags_generation", {"tags": ["Testing"]}),
        ("follow_up_generation", {"follow_ups": ["Tell me more about how do pipes work here", "What else?"]}),
    ],
)
async def test_task_aware_answers_tasks_with_json(
    host: PipeHost, library: FunctionLibrary, task: str, expected: dict[str, Any]
) -> None:
    await add(library, "task_aware")
    prompt = [{"role": "user", "content": "### Task:\nGenerate a concise title..."}]
    reply, steps = await run(host, "task_aware", prompt, stream=False, metadata=task_metadata(task))
    assert json.loads(reply.content) == expected
    (response,) = [s.to_json()["response"] for s in steps]
    assert response["object"] == "chat.completion" and response["model"] == "task_aware"


@STREAM_MODES
async def test_task_aware_chats_normally(host: PipeHost, library: FunctionLibrary, stream: bool) -> None:
    await add(library, "task_aware")
    reply, steps = await run(host, "task_aware", stream=stream)
    # A streamed reply is stripped; a non-stream one is kept as returned (spec §7.4).
    assert reply.content == ("You asked: hello there" if stream else "You asked: hello there ")
    if stream:
        assert_tuichat_ending(steps, "task_aware")


async def test_task_aware_returns_nothing_for_other_tasks(host: PipeHost, library: FunctionLibrary) -> None:
    await add(library, "task_aware")
    reply, steps = await run(host, "task_aware", stream=False, metadata=task_metadata("query_generation"))
    assert reply.content == ""
    (response,) = [s.to_json()["response"] for s in steps]
    assert response["choices"][0]["message"] == {"role": "assistant", "content": ""}


# -- 11. filter_and_pipe: a module with both classes loads as a pipe --------------------------


@STREAM_MODES
async def test_filter_and_pipe_module_loads_as_a_pipe(host: PipeHost, library: FunctionLibrary, stream: bool) -> None:
    await add(library, "filter_and_pipe", {"SUFFIX": "!!"})
    row = await library.get("filter_and_pipe")
    assert (row.type, row.name) == ("pipe", "Shouting Pipe (with its own filter)")
    listing = await host.list_models()
    assert [(m["id"], m["name"]) for m in listing.models] == [("filter_and_pipe", "Shouting Pipe (with its own filter)")]
    reply, _ = await run(host, "filter_and_pipe", [{"role": "user", "content": "  hello there  "}], stream=stream)
    assert reply.content == "HELLO THERE!!"
