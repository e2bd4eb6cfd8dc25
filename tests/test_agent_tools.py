"""Tools at work: the agent example (tuichat/examples/agent.py) runs its tool loop against the
scripted OpenAI-compatible server (tests/scripted_server.py streams `tool_calls` deltas) with a
real Tools module, and a tool's events, errors and hang are listed under its name."""

from __future__ import annotations

import asyncio
import html
import json
import textwrap
import time
from pathlib import Path

from tests.cli_helpers import tuichat_many
from tests.scripted_server import ScriptedServer
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.model import Reply
from tuichat.runtime.reply.present import describe_entry
from tuichat.runtime.turn import Turn
from tuichat.store import Store

ROOT = Path(__file__).parent.parent
AGENT = ROOT / "tuichat" / "examples" / "agent.py"
TOOLS = Path(__file__).parent / "pipes" / "tools"
GUARD = 20.0

# Calls every tool it is given with no arguments, and replies with what each returned or raised.
CALL_ALL = '''
class Pipe:
    async def pipe(self, body, __tools__=None):
        out = []
        for name, tool in (__tools__ or {}).items():
            try:
                out.append(f"{name}={await tool['callable']()}")
            except Exception as exc:
                out.append(f"{name} failed: {exc}")
        return "; ".join(out)
'''


def block(call_id: str, name: str, arguments: str, result: str) -> str:
    return (f'<details type="tool_calls" done="true" id="{call_id}" name="{name}" arguments="{html.escape(json.dumps(arguments))}" '
            f'result="{html.escape(json.dumps(result, ensure_ascii=False))}" files="" embeds="">\n<summary>Tool Executed</summary>\n</details>\n')  # fmt: skip


def shown(reply: Reply) -> str:
    return "\n".join(str(describe_entry(entry)) for entry in reply.activity)


def test_the_agent_runs_its_tool_loop_against_the_server_through_tuichat_run(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    with ScriptedServer() as server:
        results = tuichat_many(db, [
            ["pipes", "add", str(AGENT), "--id", "agent"],
            ["pipes", "valves", "agent", "--set", json.dumps({"BASE_URL": server.url, "MODEL": "toolcaller"})],
            ["tools", "add", str(TOOLS / "weather_tools.py"), "--id", "weather"],
            ["run", "agent", "weather in Paris, and 2+3?", "--tool", "weather", "--jsonl"],
            ["run", "agent", "wrong args please", "--tool", "weather"],
        ])  # fmt: skip
        first, again = server.recorder.chats()[:2]
    assert [r.returncode for r in results] == [0] * len(results), [r.stderr for r in results]
    reply = json.loads([line for line in results[3].stdout.splitlines() if line.startswith('{"reply"')][-1])["reply"]
    assert reply["content"] == (
        block("call_0_add", "add", '{"a": 2, "b": 3}', "5")
        + block("call_1_get_weather", "get_weather", '{"city": "Paris"}', "Sunny, 21 °C in Paris")
        + "\nDone: add said 5; get_weather said Sunny, 21 °C in Paris"
    )
    assert [t["function"]["name"] for t in first.body["tools"]] == ["add", "get_weather"]  # body["tools"], as sent
    assert [m["role"] for m in again.body["messages"]] == ["user", "assistant", "tool", "tool"]
    assert again.body["messages"][1]["tool_calls"][1]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert [s["description"] for s in reply["statuses"]] == ["Looking outside in Paris"]  # the tool's own event
    events = [e for e in reply["activity"] if e.get("source")]
    assert [e["source"] for e in events] == [{"tool": "weather", "function": "get_weather"}]
    calls = [e["data"] for e in reply["activity"] if e["kind"] == "log" and "tool" in e["data"]]
    assert [(c["function"], c["arguments"], c["result"]) for c in calls] == [("add", "a=2, b=3", "5"), ("get_weather", "city='Paris'", "'Sunny, 21 °C in Paris'")]

    wrong = results[4]  # the pipe called the tool with an argument missing: named, and the turn goes on
    assert "Done: add said Error: TypeError:" in wrong.stdout and "missing 1 required positional argument: 'b'" in wrong.stdout
    assert "[tool weather add] raised TypeError: Tools.add() missing 1 required positional argument: 'b'" in wrong.stderr


async def test_a_tool_that_raises_is_named_with_its_error_and_its_event(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(CALL_ALL, function_id="caller")
    await library.add((TOOLS / "fuse_tools.py").read_text(), function_id="fuse")
    turn = Turn(host, "caller", "go", tool_ids=["fuse"], save=False)
    async for _ in turn.run():
        pass
    assert turn.reply.content == "explode failed: the fuse was lit"  # the pipe caught it: the turn goes on
    lines = shown(turn.reply)
    assert "[tool fuse explode] status: lighting the fuse" in lines
    assert "[tool fuse explode] raised RuntimeError: the fuse was lit" in lines
    error = next(e for e in turn.reply.activity if e.kind == "log" and e.data.get("error"))
    assert 'fuse.py", line' in error.data["traceback"] and "tool_calls.py" not in error.data["traceback"]  # the tool's own frames


async def test_a_stop_ends_a_tool_that_hangs_and_says_which(host: PipeHost, library: FunctionLibrary, tmp_path: Path) -> None:
    marker = tmp_path / "hanging"
    hang = textwrap.dedent(f'''
        import asyncio, pathlib
        class Tools:
            async def wait_forever(self) -> str:
                """Never returns."""
                pathlib.Path({str(marker)!r}).touch()
                await asyncio.sleep(3600)
    ''')
    await library.add(CALL_ALL, function_id="caller")
    await library.add(hang, function_id="hang")
    turn = Turn(host, "caller", "go", tool_ids=["hang"], save=False)

    async def run() -> None:
        async for _ in turn.run():
            pass

    task = asyncio.ensure_future(run())
    deadline = time.monotonic() + GUARD
    while not marker.exists():
        assert time.monotonic() < deadline, "the tool never started"
        await asyncio.sleep(0.02)
    turn.cancel()
    await asyncio.wait_for(task, GUARD)
    assert turn.reply.status == "stopped"
    assert "[tool hang wait_forever] stopped while tool 'hang' wait_forever was running (" in shown(turn.reply)


async def test_a_chats_tools_are_stored_in_its_row_and_older_databases_get_none(store: Store) -> None:
    chat = await store.chats.create("t")
    assert chat.tool_ids == []
    chat = await store.chats.update(chat.id, tool_ids=["weather"])
    assert (await store.chats.get(chat.id)).tool_ids == ["weather"]
