"""What the activity says about filters on the chat path, through the real host process:
events a filter emits are tagged with its id and hook (in the reply, the stored activity,
`tuichat run`'s stderr and `--jsonl`), and each hook that ran is listed with its time and
what it changed; a stream filter once for the whole stream, with its tally."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_helpers import tuichat_many
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.model import ActivityEntry, activity_from_records
from tuichat.runtime.reply.present import describe_entry
from tuichat.runtime.turn import Turn
from tuichat.store import Store

PARROT = '''
class Pipe:
    def pipe(self, body):
        for word in body["messages"][-1]["content"].split():
            yield word + " "
'''

SHOUT = '''
class Filter:
    async def inlet(self, body, __event_emitter__):
        await __event_emitter__({"type": "status", "data": {"description": "shouting", "done": True}})
        body["messages"][-1]["content"] += "!"
        body["messages"].insert(0, {"role": "system", "content": "Be loud."})
        body["shouted"] = True
        return body

    async def stream(self, event, __event_emitter__):
        for choice in event.get("choices", []):
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                delta["content"] = delta["content"].upper()
            elif choice.get("finish_reason"):
                await __event_emitter__({"type": "status", "data": {"description": "stream ended", "done": True}})
        return event

    async def outlet(self, body, __event_emitter__):
        await __event_emitter__({"type": "notification", "data": {"type": "info", "content": "checked"}})
        body["messages"][-1]["content"] += " [checked]"
        return body
'''

QUIET = '''
class Filter:
    def stream(self, event):
        return event
'''


def lines(activity: list[ActivityEntry]) -> list[str]:
    return [str(describe_entry(entry)).split("\n")[0] for entry in activity]


def only(prefix: str, shown: list[str]) -> str:
    [line] = [line for line in shown if line.startswith(prefix)]
    return line


async def test_events_and_changes_are_listed_per_filter_and_hook(host: PipeHost, library: FunctionLibrary, store: Store) -> None:
    await library.add(PARROT, function_id="parrot")
    await library.add(SHOUT, function_id="shout")
    await library.add(QUIET, function_id="quiet")
    for fid in ("shout", "quiet"):
        await store.functions.update(fid, is_global=True)
    turn = Turn(host, "parrot", "hello there")
    async for _ in turn.run():
        pass
    reply = turn.reply
    assert (reply.content, reply.error) == ("HELLO THERE! [checked]", None)
    assert [s["description"] for s in reply.statuses] == ["shouting", "stream ended"]  # in the reply, as the pipe's
    shown = lines(reply.activity)
    assert "[filter shout inlet] status: shouting (done)" in shown
    assert "[filter shout stream] status: stream ended (done)" in shown
    assert "[filter shout outlet] notification: info: checked" in shown
    inlet = only("[filter shout inlet] ran in ", shown)
    assert inlet.endswith(": added a system message; edited the user message (+1 char); added body key 'shouted'")
    # Three chunks (two words and the finish chunk): two upper-cased; the pass-through filter rewrote none.
    assert " ms in all" in only("[filter shout stream] 3 chunks, 2 rewritten, 0 dropped, ", shown)
    assert only("[filter quiet stream] 3 chunks, 0 rewritten, 0 dropped, ", shown)
    assert only("[filter shout outlet] ran in ", shown).endswith(": rewrote the reply (+10 chars)")
    # Kept as stored: a reply selected later shows the same lines.
    assert turn.context.reply_message is not None
    stored = activity_from_records(await store.chats.events(turn.context.reply_message.id))
    assert lines(stored) == shown
    assert [e.source for e in stored if e.kind == "event"][0] == {"filter": "shout", "hook": "inlet"}


async def test_a_hook_that_changes_nothing_says_so(host: PipeHost, library: FunctionLibrary, store: Store) -> None:
    await library.add(PARROT, function_id="parrot")
    await library.add("class Filter:\n    def inlet(self, body):\n        return body\n", function_id="noop")
    await store.functions.update("noop", is_global=True)
    turn = Turn(host, "parrot", "hi", save=False)
    async for _ in turn.run():
        pass
    assert only("[filter noop inlet] ran in ", lines(turn.reply.activity)).endswith(" ms, no change")


def test_tuichat_run_names_the_filter_and_hook_on_stderr_and_in_jsonl(tmp_path: Path) -> None:
    (tmp_path / "parrot.py").write_text(PARROT)
    (tmp_path / "shout.py").write_text(SHOUT)
    results = tuichat_many(tmp_path / "t.db", [
        ["pipes", "add", str(tmp_path / "parrot.py"), "--id", "parrot"],
        ["pipes", "add", str(tmp_path / "shout.py"), "--id", "shout"],
        ["pipes", "global", "shout", "on"],
        ["run", "parrot", "hello there"],
        ["run", "parrot", "hello there", "--jsonl", "--no-save"],
    ])  # fmt: skip
    plain, jsonl = results[3], results[4]
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines()[-1] == "HELLO THERE! [checked]"
    assert "[filter shout inlet] status: shouting (done)\n" in plain.stderr
    assert "[filter shout stream] 3 chunks, 2 rewritten, 0 dropped, " in plain.stderr
    steps: list[dict[str, Any]] = [json.loads(line) for line in jsonl.stdout.splitlines()]
    events = [step for step in steps if "event" in step and step["event"]["type"] == "status"]
    assert [(e["filter"], e["hook"], e["event"]["data"]["description"]) for e in events] == [
        ("shout", "inlet", "shouting"),
        ("shout", "stream", "stream ended"),
    ]
    hooks = [step["log"] for step in steps if "log" in step and "filter" in step["log"]]
    assert [(h["filter"], h["hook"]) for h in hooks] == [("shout", "inlet"), ("shout", "stream"), ("shout", "outlet")]
    assert hooks[1]["chunks"] == 3 and hooks[1]["rewritten"] == 2 and hooks[0]["changes"][0] == "added a system message"
