"""The bundled `local` pipe against a scripted OpenAI-compatible server (tests/scripted_server.py).

Each edge case a real local server produces, through the real CLI (`tuichat run --jsonl` in one
process for several commands) or the real runtime with its pipe host: streaming deltas,
`reasoning_content`, `<think>` tags, the usage chunk, an error status, a model that is gone, a
connection dropped mid-reply, an error chunk, a slow first token, images, and the port probe.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import tuichat_many
from tests.scripted_server import USAGE, ScriptedServer
from tests.tracing import ORACLE_METADATA, collect
from tuichat.runtime.host import PipeHost, make_body
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps
from tuichat.runtime.reply.model import Reply
from tuichat.runtime.transfer import example_source


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


def reply_of(stdout: str) -> dict[str, Any]:
    """The `{"reply": ...}` line `--jsonl` ends with."""
    return json.loads(stdout.strip().splitlines()[-1])["reply"]


def test_tuichat_run_streams_reasoning_and_usage_and_keeps_text_cut_off(tmp_path: Path, server: ScriptedServer) -> None:
    results = tuichat_many(tmp_path / "t.db", [
        ["pipes", "valves", "local", "--set", json.dumps({"BASE_URL": server.url})],
        ["run", "local.plain", "hi", "--jsonl"],
        ["run", "local.reasoner", "hi", "--jsonl"],
        ["run", "local.dropper", "hi", "--jsonl"],
        ["run", "local.broken", "hi"],
    ])
    assert [r.returncode for r in results] == [0, 0, 0, 0, 1]
    plain, reasoner, dropped = (reply_of(r.stdout) for r in results[1:4])
    assert (plain["content"], plain["usage"], plain["status"]) == ("Hello from plain.", USAGE, "done")
    assert (reasoner["reasoning"], reasoner["content"], reasoner["usage"]) == ("The user said hi. Answer briefly.", "Hi!", USAGE)
    # Cut off mid-reply: the text stays (the chat path drops a raising pipe's text) and says why.
    assert (dropped["content"], dropped["status"], dropped["error"]) == ("Half a sentence", "done", None)
    assert dropped["statuses"][-1]["description"].startswith(f"Cut off: The connection to {server.url} broke during the reply (")
    assert dropped["statuses"][-1]["done"] is True and not dropped["statuses"][-1].get("hidden")
    assert f"error: {server.url} answered 500 for broken: CUDA error: out of memory." in results[4].stderr
    # The server gets its own model id, the messages as sent, and a request for the usage chunk.
    assert server.recorder.chats()[0].body == {
        "model": "plain", "messages": [{"role": "user", "content": "hi"}], "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_think_tags_a_slow_first_token_and_an_unstreamed_reply(
    host: PipeHost, library: FunctionLibrary, server: ScriptedServer
) -> None:
    await add_local(library, {"BASE_URL": server.url})
    thinker = await ask(host, "local.thinker", "hi")
    assert (thinker.reasoning, thinker.content) == ("Counting letters.", "Three letters.")
    slow = await ask(host, "local.slow", "hi")
    assert (slow.content, slow.status) == ("Worth the wait.", "done")
    # While the first token is awaited the reply says so; the status goes once it comes.
    assert [(s["description"], s["done"]) for s in slow.statuses] == [("Waiting for slow", False), ("slow is answering", True)]
    unstreamed = await ask(host, "local.plain", "hi", stream=False)
    assert (unstreamed.content, unstreamed.usage) == ("Hello from plain.", USAGE)
    assert "stream_options" not in server.recorder.chats()[-1].body


async def test_server_failures_are_said_and_the_text_so_far_kept(
    host: PipeHost, library: FunctionLibrary, server: ScriptedServer
) -> None:
    await add_local(library, {"BASE_URL": server.url})
    vanished = await ask(host, "local.vanished", "hi")
    assert vanished.error == (
        f"{server.url} answered 404 for vanished: model 'vanished' not found. The server may no longer have this model: pick another."
    )
    assert [(s["description"], s["done"]) for s in vanished.statuses] == [("Waiting for vanished", False), ("vanished did not answer", True)]
    ghost = await ask(host, "local.ghost", "hi")
    assert ghost.error is not None
    assert ghost.error.startswith("No local server serves the model 'ghost' now. Served: broken, dropper,")
    overflow = await ask(host, "local.overflow", "hi")
    assert (overflow.content, overflow.error) == ("Start", None)
    assert overflow.statuses[-1]["description"] == f"Cut off: {server.url} stopped the reply: the context is full."
    await library.set_valves("local", {"BASE_URL": server.url, "TIMEOUT": 0.2})
    slow = await ask(host, "local.slow", "hi")
    assert slow.error == f"slow at {server.url} sent nothing for 0.2 s. Raise this pipe's TIMEOUT valve for a slow model."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_ports(ports: list[tuple[str, int]]) -> str:
    """The pipe's source probing these ports instead of the real servers' defaults."""
    source = example_source("local")
    start = source.index("DEFAULT_SERVERS = (")
    end = source.index(")\n", source.index("8000),")) + 2
    return source[:start] + f"DEFAULT_SERVERS = {tuple(ports)!r}\n" + source[end:]


async def test_the_probe_lists_every_server_found_and_says_why_others_were_not(
    host: PipeHost, library: FunctionLibrary, tmp_path: Path
) -> None:
    silent = socket.socket()  # accepts connections (the kernel does) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    refused = free_port()
    with silent:
        with ScriptedServer() as first, ScriptedServer() as second:
            ports = [("First", first.port), ("Second", second.port), ("Silent", silent.getsockname()[1]), ("Gone", refused)]
            await library.add(with_ports(ports), function_id="probe")
            listing = await host.list_models()
            names = {m["id"]: m["name"] for m in listing.models if m["id"].startswith("probe.")}
            # Both servers serve `plain`: the second one's copy is told apart by its port.
            assert names["probe.plain"] == "Local/plain (First)"
            assert names[f"probe.plain@{second.port}"] == "Local/plain (Second)"
            reply = await ask(host, f"probe.plain@{second.port}", "hi")
            assert (reply.content, len(first.recorder.chats()), len(second.recorder.chats())) == ("Hello from plain.", 0, 1)

        # The servers are gone: a model from the last list is now a connection refused, said so.
        gone = await ask(host, "probe.plain", "hi")
        assert gone.error == f"Could not connect to {first.url} (All connection attempts failed). Is the server still running?"
        listing = await host.list_models()  # the silent port still takes connections
        assert [m["name"] for m in listing.models if m["id"].startswith("probe.")] == [
            "Local/(no local server found: send a message for help)"
        ]
        reply = await ask(host, "probe.setup", "hi")
    assert reply.error is not None and reply.error.startswith("No local model server found. Tried:\n- http://127.0.0.1:")
    assert f":{refused}/v1 (Gone): connection refused\n" in reply.error
    assert f":{first.port}/v1 (First): connection refused\n" in reply.error
    assert f":{ports[2][1]}/v1 (Silent): no answer in time\n" in reply.error
    assert "`ollama serve`" in reply.error and "BASE_URL valve" in reply.error


async def test_images_reach_the_server_and_the_api_key_is_sent(host: PipeHost, library: FunctionLibrary) -> None:
    with ScriptedServer() as server:
        # A BASE_URL without /v1 means the API under it, as the servers print their address so.
        await add_local(library, {"BASE_URL": f"http://127.0.0.1:{server.port}", "API_KEY": "sk-local"})
        image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
        content = [{"type": "text", "text": "What is this?"}, image, image]
        reply = await ask(host, "local.vision", content)
        assert reply.content == "I see 2 image(s)."
        assert server.recorder.chats()[0].body["messages"] == [{"role": "user", "content": content}]
        assert {r.headers.get("Authorization") for r in server.recorder.requests} == {"Bearer sk-local"}


async def add_local(library: FunctionLibrary, valves: dict[str, Any]) -> None:
    await library.add(example_source("local"), function_id="local")
    await library.set_valves("local", valves)


async def ask(host: PipeHost, model: str, content: Any, *, stream: bool = True) -> Reply:
    body = make_body(model, [{"role": "user", "content": content}], stream=stream)
    invocation = await host.invoke(model, body, metadata=dict(ORACLE_METADATA))
    return reply_from_steps(await collect(invocation))


async def test_a_new_base_url_is_used_from_the_next_message(host: PipeHost, library: FunctionLibrary) -> None:
    with ScriptedServer() as first, ScriptedServer() as second:
        await add_local(library, {"BASE_URL": first.url})
        assert (await ask(host, "local.plain", "hi")).content == "Hello from plain."
        await library.set_valves("local", {"BASE_URL": second.url})
        assert (await ask(host, "local.plain", "hi")).content == "Hello from plain."
        assert (len(first.recorder.chats()), len(second.recorder.chats())) == (1, 1)
