"""The example pipes seeded into a new store: each runs offline in both modes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tracing import ORACLE_METADATA, collect, replier
from tuichat.runtime.host import PipeHost, make_body
from tuichat.runtime.library import EXAMPLE_IDS, FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps
from tuichat.runtime.reply.model import Reply


@pytest.fixture
async def seeded(library: FunctionLibrary) -> FunctionLibrary:
    assert await library.seed_examples() == list(EXAMPLE_IDS)
    return library


async def ask(host: PipeHost, model: str, text: str, *, stream: bool = True, replies: Any = None, handler: bool = True) -> Reply:
    body = make_body(model, [{"role": "user", "content": text}], stream=stream)
    invocation = await host.invoke(
        model, body, metadata=dict(ORACLE_METADATA), event_call=replier(replies) if handler else None
    )
    return reply_from_steps(await collect(invocation))


async def test_seeding_happens_once_and_respects_deletions(seeded: FunctionLibrary) -> None:
    rows = await seeded.store.functions.list()
    assert [r.id for r in rows] == list(EXAMPLE_IDS)
    assert all(r.is_active and r.type == "pipe" and r.meta["manifest"]["author"] == "tuichat" for r in rows)
    for fid in EXAMPLE_IDS:
        await seeded.remove(fid)
    assert await seeded.seed_examples() == []
    assert await seeded.store.functions.count() == 0


async def test_the_model_list_has_every_example(host: PipeHost, seeded: FunctionLibrary) -> None:
    listing = await host.list_models()
    ids = [m["id"] for m in listing.models]
    # `local` lists what the machine's model servers serve (tests/test_local_models.py): at least its help entry.
    assert ids[:7] == ["echo", "manifold.reverse", "manifold.shout", "manifold.count", "events", "ask", "markdown"]
    assert ids[7:] and all(model_id.startswith("local.") for model_id in ids[7:])
    assert listing.errors == {}
    assert listing.by_id()["manifold.shout"]["name"] == "Demo/Shout"
    assert listing.by_id()["echo"]["has_user_valves"] is True


@pytest.mark.parametrize("stream", [True, False])
async def test_echo_applies_its_valves(host: PipeHost, seeded: FunctionLibrary, stream: bool) -> None:
    assert (await ask(host, "echo", "hello  there\nfriend", stream=stream)).content == "hello  there\nfriend"
    await seeded.set_valves("echo", {"PREFIX": ">> ", "UPPERCASE": True})
    reply = await ask(host, "echo", "hello there", stream=stream)
    assert (reply.content, reply.status) == (">> HELLO THERE", "done")


@pytest.mark.parametrize("stream", [True, False])
async def test_manifold_sub_models(host: PipeHost, seeded: FunctionLibrary, stream: bool) -> None:
    assert (await ask(host, "manifold.reverse", "abc", stream=stream)).content == "cba"
    assert (await ask(host, "manifold.shout", "abc", stream=stream)).content.startswith("ABC")
    assert "3" in (await ask(host, "manifold.count", "abc", stream=stream)).content


@pytest.mark.parametrize("stream", [True, False])
async def test_events_tour_fills_every_part_of_the_reply(host: PipeHost, seeded: FunctionLibrary, stream: bool) -> None:
    reply = await ask(host, "events", "hi", stream=stream)
    assert reply.status == "done" and reply.error is None
    assert reply.statuses[-1]["done"] is True and any(s.get("hidden") for s in reply.statuses)
    assert len(reply.sources) == 2
    assert [n["type"] for n in reply.notifications] == ["info", "warning"]
    assert len(reply.files) == 1 and reply.title == "Event tour" and len(reply.follow_ups) == 2
    # Streamed text follows the message/replace events; a non-stream response replaces them.
    assert reply.content.startswith("Ready.\n\nThis reply" if stream else "This reply is a tour")


async def test_ask_reports_the_answers(host: PipeHost, seeded: FunctionLibrary) -> None:
    reply = await ask(host, "ask", "hi", replies=[True, "Alice", "hunter2", "green"])
    assert "Alice" in reply.content and "7 characters" in reply.content and "green" in reply.content
    calls = [entry.data for entry in reply.activity if entry.kind == "call"]
    assert [c["call"]["type"] for c in calls] == ["confirmation", "input", "input", "input"]
    assert calls[2]["call"]["data"]["type"] == "password"


async def test_ask_without_anyone_to_answer_explains(host: PipeHost, seeded: FunctionLibrary) -> None:
    reply = await ask(host, "ask", "hi", handler=False)
    assert reply.status == "done" and "couldn't ask you anything" in reply.content


async def test_ask_cancelled_confirmation(host: PipeHost, seeded: FunctionLibrary) -> None:
    reply = await ask(host, "ask", "hi", replies=[False])
    assert reply.status == "done" and len([e for e in reply.activity if e.kind == "call"]) == 1


@pytest.mark.parametrize("stream", [True, False])
async def test_markdown_streams_thought_and_code(host: PipeHost, seeded: FunctionLibrary, stream: bool) -> None:
    reply = await ask(host, "markdown", "show me", stream=stream)
    assert reply.reasoning.startswith("The user wants")
    assert "<think>" not in reply.content and "</think>" not in reply.content
    # Non-stream text is shown as returned, stream text is stripped (spec test 63).
    assert reply.content.startswith("# Markdown showcase" if stream else "\n\n# Markdown showcase")
    assert "```python" in reply.content and "| " in reply.content
