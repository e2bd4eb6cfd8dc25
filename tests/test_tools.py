"""Open WebUI's tool store: `class Tools` modules kept with the functions (type 'tool'), the
`tuichat tools` commands, and a selected tool reaching the pipe as `__tools__` entries and
native `body["tools"]` specs (tests/conformance/chat's tools_* cases check the exact shape)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli_helpers import tuichat_many
from tuichat.store import Store

PIPES = Path(__file__).parent / "pipes" / "tools"
CLOCK, CALLER = PIPES / "clock_tools.py", PIPES / "caller_pipe.py"


def reply_of(stdout: str) -> dict:
    return json.loads([line for line in stdout.splitlines() if line.startswith('{"reply"')][-1])["reply"]


def test_a_tool_is_added_listed_given_valves_and_called_by_the_pipe(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    results = tuichat_many(db, [
        ["pipes", "add", str(CALLER), "--id", "caller"],
        ["tools", "add", str(CLOCK), "--id", "clock"],
        ["tools", "valves", "clock", "--set", '{"zone": "CET"}'],
        ["tools", "user-valves", "clock", "--set", '{"style": "long"}'],
        ["tools", "list"],
        ["tools", "show", "clock"],
        ["run", "caller", "what time", "--tool", "clock", "--jsonl"],
        ["run", "caller", "what time", "--jsonl"],
        ["run", "caller", "what time", "--tool", "nope", "--jsonl"],
    ])  # fmt: skip
    add_pipe, add_tool, valves, user_valves, listed, shown, with_tool, without, unknown = results
    assert [r.returncode for r in results] == [0] * len(results), [r.stderr for r in results]
    assert add_tool.stdout.startswith("added tool 'clock' (Clock Tools)")
    assert "clock" in listed.stdout and "Clock Tools" in listed.stdout and "caller" not in listed.stdout
    assert "type:      tool" in shown.stdout
    reply = reply_of(with_tool.stdout)
    assert reply["content"] == "tools ['now']; now: noon in Oslo (CET, long, clock)"
    assert [s["description"] for s in reply["statuses"]] == ["looking up Oslo"]  # the tool's event reaches the reply
    assert reply_of(without.stdout)["content"] == "tools [];"
    assert reply_of(unknown.stdout)["content"] == "tools [];"  # an unknown id is skipped, as Open WebUI skips it


def test_tools_commands_keep_to_tools(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    add_pipe, as_tool, show_pipe, pipes_list = tuichat_many(db, [
        ["pipes", "add", str(CALLER), "--id", "caller"],
        ["tools", "add", str(CALLER)],
        ["tools", "show", "caller"],
        ["pipes", "list"],
    ])  # fmt: skip
    assert as_tool.returncode == 2 and "defines no `class Tools` (it reads as a pipe)" in as_tool.stderr
    assert "tuichat pipes add" in as_tool.stderr
    assert show_pipe.returncode == 2 and "'caller' is a pipe, not a tool: use `tuichat pipes show caller`" in show_pipe.stderr
    assert "caller" in pipes_list.stdout


def test_a_tool_that_fails_to_load_fails_the_turn_naming_it(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    bad_valves = tmp_path / "strict.py"
    bad_valves.write_text(
        "from pydantic import BaseModel\n\nclass Tools:\n    class Valves(BaseModel):\n        limit: int = 1\n"
        "    def __init__(self):\n        self.valves = self.Valves()\n    def ping(self) -> str:\n        return 'pong'\n"
    )
    results = tuichat_many(db, [
        ["pipes", "add", str(CALLER), "--id", "caller"],
        ["tools", "add", str(bad_valves), "--id", "strict"],
    ])  # fmt: skip
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    # Valves saved while they were valid, then the tool's code changed: Open WebUI fails the turn.
    conn = sqlite3.connect(db)
    conn.execute("UPDATE function SET valves = ? WHERE id = 'strict'", ('{"limit": "many"}',))
    conn.commit()
    conn.close()
    run, = tuichat_many(db, [["run", "caller", "hi", "--tool", "strict", "--jsonl"]])
    reply = reply_of(run.stdout)
    assert run.returncode == 1 and reply["status"] == "error"
    assert "tool 'strict': ValidationError" in reply["error"]


def test_the_models_tools_are_selected_with_the_ones_asked_for(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    *_, run = tuichat_many(db, [
        ["pipes", "add", str(CALLER), "--id", "caller"],
        ["tools", "add", str(CLOCK), "--id", "clock"],
        ["models", "set", "caller", "--tools", "clock"],
        ["run", "caller", "hi", "--jsonl"],
    ])  # fmt: skip
    assert reply_of(run.stdout)["content"] == "tools ['now']; now: noon in Oslo (UTC, short, clock)"


@pytest.fixture
async def v6_database(tmp_path: Path) -> Path:
    """A database as schema v6 left it, with a function, its user valves and versions."""
    from tuichat.store.schema import MIGRATIONS, statements

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:6]:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 6")
    conn.execute("INSERT INTO function (id, name, type, content, meta) VALUES ('p', 'P', 'pipe', 'class Pipe: pass', '{}')")
    conn.execute("INSERT INTO function_user_valves (function_id, user_id, valves) VALUES ('p', 'u', '{\"a\": 1}')")
    conn.execute("INSERT INTO function_version (function_id, content, origin, created_at) VALUES ('p', 'x', 'saved', 1)")
    conn.commit()
    conn.close()
    return path


async def test_v7_lets_tools_in_and_keeps_what_functions_had(v6_database: Path) -> None:
    async with await Store.open(v6_database) as store:
        row = await store.functions.get("p")
        assert row is not None and row.type == "pipe"
        assert await store.functions.get_user_valves("p", "u") == {"a": 1}
        assert len(await store.functions.versions("p")) == 1
        await store.functions.insert("t", name="T", type="tool", content="class Tools: pass")
        assert [r.id for r in await store.functions.list(type="tool")] == ["t"]
        await store.functions.delete("p")  # the cascade still holds after the rebuild
        assert await store.functions.get_user_valves("p", "u") == {}


def test_the_workshop_commands_pipes_have_work_on_tools(tmp_path: Path) -> None:
    db, linked = tmp_path / "t.db", tmp_path / "linked_clock.py"
    linked.write_text(CLOCK.read_text().replace("noon", "midnight"))
    new, versions, exported, link, again, pipe_link, on_pipe = tuichat_many(db, [
        ["tools", "new", "stamp", "--name", "Stamp"],
        ["tools", "versions", "stamp"],
        ["tools", "export", "stamp"],
        ["tools", "link", str(linked), "--id", "clock"],
        ["tools", "versions", "clock"],
        ["tools", "link", str(CALLER)],
        ["tools", "versions", "echo"],
    ])  # fmt: skip
    assert new.stdout.startswith("created tool 'stamp' (Stamp) from the tool template"), new.stderr
    assert "created" in versions.stdout and "current" in versions.stdout
    assert exported.stdout.startswith('"""\ntitle: Stamp\n') and "class Tools:" in exported.stdout
    assert link.returncode == 0 and f"linked 'clock' to {linked}" in link.stdout, link.stderr
    assert again.returncode == 0 and again.stdout.splitlines()[1].split()[3:] == ["watched", "26", "current"]
    assert pipe_link.returncode == 2 and "defines no `class Tools` (it reads as a pipe)" in pipe_link.stderr
    assert on_pipe.returncode == 2 and "'echo' is a pipe, not a tool: use `tuichat pipes versions echo`" in on_pipe.stderr
