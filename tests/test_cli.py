"""The `tuichat` CLI end to end: real SQLite files and a real pipe host process, no mocks.

Every command runs through the console script's entry point, in the test's process with its
own stdout, stderr, stdin and exit status, as `tuichat --db <tmp>/x.db ...` with TUICHAT_DB
removed from the environment, so nothing here can touch a user's own database
(tests/cli_helpers.py). Where the process itself is what is tested (two at once, the console
script, `python -m tuichat`, start-up), real subprocesses; signals, pipes and locks held by
another process are in tests/test_cli_faults.py and tests/test_cli_unix.py.
Exit statuses: 0 success, 1 the pipe failed, 2 the command was wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import TIMEOUT, cli_env, console_script, ok, query, tuichat, tuichat_many
from tests.tracing import ORACLE_METADATA, ORACLE_USER, normalise
from tuichat import __version__

__all__ = ["cli_env", "ok", "tuichat"]  # tests/test_workshop.py runs the CLI with these

PIPES = Path(__file__).parent / "pipes"
CASES = Path(__file__).parent / "conformance" / "cases"
EXAMPLES = ["echo", "manifold", "events", "ask", "markdown", "local"]


def function_rows(db: Path) -> list[tuple[Any, ...]]:
    return query(db, "SELECT * FROM function ORDER BY id")


def function_valves(db: Path, function_id: str) -> dict[str, Any]:
    [(valves,)] = query(db, "SELECT valves FROM function WHERE id = ?", (function_id,))
    return json.loads(valves)


def user_valves_rows(db: Path, function_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = query(db, "SELECT user_id, valves FROM function_user_valves WHERE function_id = ?", (function_id,))
    return [(user_id, json.loads(valves)) for user_id, valves in rows]


def local_user_id(db: Path) -> str:
    return query(db, "SELECT id FROM user ORDER BY created_at, rowid LIMIT 1")[0][0]


def chat_count(db: Path) -> int:
    return query(db, "SELECT count(*) FROM chat")[0][0]


def add_pipe(db: Path, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return ok(tuichat(db, "pipes", "add", str(PIPES / f"{name}.py"), *extra))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "x.db"


# -- 1. a fresh database ----------------------------------------------------------------
def test_fresh_db_lists_the_seeded_examples(db: Path) -> None:
    listed = ok(tuichat(db, "pipes", "list"))
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "TYPE", "ACTIVE", "NAME", "VERSION", "ERROR"]
    assert [line.split()[0] for line in lines[1:]] == EXAMPLES
    assert all(line.split()[1:3] == ["pipe", "yes"] for line in lines[1:])
    assert listed.stderr == ""

    rows = json.loads(ok(tuichat(db, "pipes", "list", "--json")).stdout)
    assert [r["id"] for r in rows] == EXAMPLES
    assert {r["id"]: r["name"] for r in rows} == {
        "echo": "Echo", "manifold": "Demo Manifold", "events": "Event Tour", "ask": "Ask Me", "markdown": "Markdown Showcase",
        "local": "Local Models",
    }  # fmt: skip
    assert all(r["type"] == "pipe" and r["is_active"] and r["load_error"] is None for r in rows)


def test_models_json_is_the_exact_model_dicts(db: Path) -> None:
    result = ok(tuichat(db, "models", "--json"))
    models = json.loads(result.stdout)
    assert isinstance(models, list)
    keys = {"id", "name", "object", "created", "owned_by", "pipe", "has_user_valves"}
    assert all(set(m) == keys for m in models), models
    assert all(isinstance(m["created"], int) and m["created"] > 0 for m in models)
    by_id = {m["id"]: {k: v for k, v in m.items() if k != "created"} for m in models}
    # `local` lists what the machine's model servers serve: at least its help entry.
    assert [m["id"] for m in models if not m["id"].startswith("local.")] == [
        "echo", "manifold.reverse", "manifold.shout", "manifold.count", "events", "ask", "markdown",
    ]  # fmt: skip
    assert [m["id"] for m in models][7:] and all(m["id"].startswith("local.") for m in models[7:])
    assert by_id["echo"] == {
        "id": "echo", "name": "Echo", "object": "model", "owned_by": "openai", "pipe": {"type": "pipe"}, "has_user_valves": True,
    }  # fmt: skip
    assert by_id["manifold.reverse"] == {
        "id": "manifold.reverse", "name": "Demo/Reverse", "object": "model", "owned_by": "openai",
        "pipe": {"type": "pipe"}, "has_user_valves": False,
    }  # fmt: skip
    assert result.stderr == ""


def test_deleted_examples_are_not_seeded_again(db: Path) -> None:
    for fid in EXAMPLES:
        assert ok(tuichat(db, "pipes", "rm", fid)).stdout == f"removed '{fid}'\n"
    assert function_rows(db) == []
    assert json.loads(ok(tuichat(db, "pipes", "list", "--json")).stdout) == []
    assert function_rows(db) == []
    assert ok(tuichat(db, "models")).stdout.splitlines() == ["MODEL  NAME  FUNCTION"]


# -- 2. adding and managing pipes -------------------------------------------------------
def test_add_takes_the_id_from_the_file_name_and_the_name_from_the_title(db: Path, tmp_path: Path) -> None:
    source = (PIPES / "cli_imports.py").read_text(encoding="utf-8")
    stored_source = source.replace("from utils.misc", "from open_webui.utils.misc")
    assert stored_source != source
    path = tmp_path / "My-Pipe.py"
    path.write_text(source, encoding="utf-8")

    added = ok(tuichat(db, "pipes", "add", str(path)))
    assert added.stdout == "added pipe 'my_pipe' (CLI Imports Demo)\nmodels: my_pipe\n"
    [(name, content, meta, active)] = query(db, "SELECT name, content, meta, is_active FROM function WHERE id = 'my_pipe'")
    assert (name, content, active) == ("CLI Imports Demo", stored_source, 1)
    assert json.loads(meta)["manifest"] == {
        "title": "CLI Imports Demo", "version": "1.2.3", "description": "Stored with Open WebUI's import rewriting applied.",
    }  # fmt: skip

    # export prints the stored (rewritten) source, byte for byte
    assert ok(tuichat(db, "pipes", "export", "my_pipe")).stdout == stored_source

    # a second add under the same id is refused and changes nothing
    before = function_rows(db)
    again = tuichat(db, "pipes", "add", str(path))
    assert again.returncode == 2
    assert "'my_pipe' is already stored" in again.stderr
    assert "--replace" in again.stderr
    assert again.stdout == ""
    assert function_rows(db) == before

    # --replace updates it
    path.write_text(source.replace("imports v1", "imports v2"), encoding="utf-8")
    replaced = ok(tuichat(db, "pipes", "add", str(path), "--replace"))
    assert replaced.stdout == "updated pipe 'my_pipe' (CLI Imports Demo)\nmodels: my_pipe\n"
    assert ok(tuichat(db, "run", "my_pipe", "hi", "--no-save")).stdout == "imports v2\n"
    assert [r[0] for r in function_rows(db)] == sorted([*EXAMPLES, "my_pipe"])

    # --id and --name
    named = ok(tuichat(db, "pipes", "add", str(path), "--id", "Other_ID", "--name", "Nice Name"))
    assert named.stdout == "added pipe 'other_id' (Nice Name)\nmodels: other_id\n"
    assert query(db, "SELECT name FROM function WHERE id = 'other_id'") == [("Nice Name",)]

    bad_id = tuichat(db, "pipes", "add", str(path), "--id", "bad-id")
    assert bad_id.returncode == 2
    assert "Invalid function id 'bad-id'" in bad_id.stderr and "'bad_id'" in bad_id.stderr
    assert query(db, "SELECT count(*) FROM function WHERE id LIKE 'bad%'") == [(0,)]


def test_show_export_rm(db: Path) -> None:
    add_pipe(db, "cli_imports")
    shown = ok(tuichat(db, "pipes", "show", "cli_imports"))
    fields = dict(line.split(":", 1) for line in shown.stdout.splitlines() if ":" in line)
    assert {k: v.strip() for k, v in fields.items() if k in ("id", "name", "type", "active", "version", "valves", "models")} == {
        "id": "cli_imports", "name": "CLI Imports Demo", "type": "pipe", "active": "yes", "version": "1.2.3",
        "valves": "{}", "models": "cli_imports",
    }, shown.stdout  # fmt: skip

    info = json.loads(ok(tuichat(db, "pipes", "show", "cli_imports", "--json")).stdout)
    assert {k: info[k] for k in ("id", "name", "type", "is_active", "is_global", "valves", "load_error")} == {
        "id": "cli_imports", "name": "CLI Imports Demo", "type": "pipe", "is_active": True, "is_global": False,
        "valves": {}, "load_error": None,
    }  # fmt: skip
    assert info["meta"]["manifest"]["version"] == "1.2.3"
    assert [m["id"] for m in info["models"]] == ["cli_imports"]
    assert info["models"][0]["name"] == "CLI Imports Demo"

    exported = ok(tuichat(db, "pipes", "export", "cli_imports")).stdout
    assert "from open_webui.utils.misc import get_last_user_message" in exported
    assert "\n    from utils.misc" not in exported

    assert ok(tuichat(db, "pipes", "rm", "cli_imports")).stdout == "removed 'cli_imports'\n"
    assert query(db, "SELECT count(*) FROM function WHERE id = 'cli_imports'") == [(0,)]
    for command in (("pipes", "show", "cli_imports"), ("pipes", "rm", "cli_imports"), ("pipes", "export", "cli_imports")):
        missing = tuichat(db, *command)
        assert missing.returncode == 2, command
        assert "no function 'cli_imports' is stored" in missing.stderr
        assert "tuichat pipes list" in missing.stderr


def test_disable_refuses_run_until_enabled(db: Path) -> None:
    assert ok(tuichat(db, "pipes", "disable", "echo")).stdout == "disabled 'echo'\n"
    assert query(db, "SELECT is_active FROM function WHERE id = 'echo'") == [(0,)]
    refused = tuichat(db, "run", "echo", "hello")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "function 'echo', which is disabled" in refused.stderr
    assert "tuichat pipes enable echo" in refused.stderr
    assert chat_count(db) == 0  # a refused run stores nothing

    assert ok(tuichat(db, "pipes", "enable", "echo")).stdout == "enabled 'echo'\n"
    assert query(db, "SELECT is_active, load_error FROM function WHERE id = 'echo'") == [(1, None)]
    assert ok(tuichat(db, "run", "echo", "hello")).stdout == "hello\n"


def test_what_a_pipe_prints_at_import_goes_to_stderr_marked_never_stdout(db: Path, tmp_path: Path) -> None:
    source = tmp_path / "loud.py"
    source.write_text('import sys\nprint("loud at import")\nsys.stderr.write("\\x1b[2J loud on stderr\\n")\n'
                      'class Pipe:\n    def pipe(self, body):\n        return "quiet reply"\n')
    added = ok(tuichat(db, "pipes", "add", str(source)))
    assert added.stdout == "added pipe 'loud' (loud)\nmodels: loud\n"
    assert "[host] loud at import\n" in added.stderr and "[host] ␛[2J loud on stderr\n" in added.stderr
    listed = ok(tuichat(db, "models", "--json"))
    assert "loud at import" not in listed.stdout and "[host] loud at import" in listed.stderr
    json.loads(listed.stdout)
    run = ok(tuichat(db, "run", "loud", "hi", "--jsonl", "--no-save"))
    assert all(json.loads(line) for line in run.stdout.splitlines())  # only JSON on stdout
    assert "loud at import" not in run.stdout.replace('"text": "loud at import"', "")


# -- 3. valves --------------------------------------------------------------------------
def test_valves_set_merge_reset_and_validation(db: Path) -> None:
    add_pipe(db, "cli_valves")
    table = ok(tuichat(db, "pipes", "valves", "cli_valves")).stdout.splitlines()
    assert table[0].split() == ["FIELD", "TYPE", "VALUE", "DEFAULT", "DESCRIPTION"]
    assert table[1].split() == ["PREFIX", "str", '""', '""', "put", "before", "the", "reply"]
    assert table[2].split() == ["COUNT", "int", "1", "1", "times", "to", "repeat", "the", "message"]

    assert ok(tuichat(db, "pipes", "valves", "cli_valves", "--set", '{"COUNT": 3}')).stdout == 'stored: {"COUNT": 3}\n'
    assert function_valves(db, "cli_valves") == {"COUNT": 3}  # only the fields set
    ok(tuichat(db, "pipes", "valves", "cli_valves", "--set", '{"PREFIX": "> "}'))
    assert function_valves(db, "cli_valves") == {"COUNT": 3, "PREFIX": "> "}  # merged
    assert json.loads(ok(tuichat(db, "pipes", "valves", "cli_valves", "--json")).stdout) == {"COUNT": 3, "PREFIX": "> "}
    table = ok(tuichat(db, "pipes", "valves", "cli_valves")).stdout.splitlines()
    assert table[2].split()[:4] == ["COUNT", "int", "3", "(set)"]
    assert ok(tuichat(db, "run", "cli_valves", "hi", "--no-save")).stdout == "> hi hi hi\n"

    # invalid JSON: exit 2 with the parse position; nothing changes
    bad_json = tuichat(db, "pipes", "valves", "cli_valves", "--set", '{"COUNT": ')
    assert bad_json.returncode == 2
    assert "--set is not valid JSON" in bad_json.stderr
    assert "line 1, column 11" in bad_json.stderr
    not_object = tuichat(db, "pipes", "valves", "cli_valves", "--set", "[1]")
    assert not_object.returncode == 2
    assert "--set must be a JSON object" in not_object.stderr
    # a value the Valves model refuses: pydantic's message, naming the field
    bad_value = tuichat(db, "pipes", "valves", "cli_valves", "--set", '{"COUNT": "x"}')
    assert bad_value.returncode == 2
    assert "invalid valves for 'cli_valves'" in bad_value.stderr
    assert "COUNT\n  Input should be a valid integer" in bad_value.stderr
    assert bad_value.stdout == ""
    assert function_valves(db, "cli_valves") == {"COUNT": 3, "PREFIX": "> "}

    # null resets one field, --reset all of them
    assert ok(tuichat(db, "pipes", "valves", "cli_valves", "--set", '{"COUNT": null}')).stdout == 'stored: {"PREFIX": "> "}\n'
    assert function_valves(db, "cli_valves") == {"PREFIX": "> "}
    assert ok(tuichat(db, "pipes", "valves", "cli_valves", "--reset")).stdout == "stored: {}\n"
    assert function_valves(db, "cli_valves") == {}
    assert ok(tuichat(db, "run", "cli_valves", "hi", "--no-save")).stdout == "hi\n"


def test_user_valves_are_stored_for_the_local_user(db: Path) -> None:
    add_pipe(db, "cli_valves")
    set_ = ok(tuichat(db, "pipes", "user-valves", "cli_valves", "--set", '{"SIGNATURE": " -- me"}'))
    assert set_.stdout == 'stored: {"SIGNATURE": " -- me"}\n'
    assert user_valves_rows(db, "cli_valves") == [(local_user_id(db), {"SIGNATURE": " -- me"})]
    assert function_valves(db, "cli_valves") == {}  # admin valves untouched
    assert json.loads(ok(tuichat(db, "pipes", "user-valves", "cli_valves", "--json")).stdout) == {"SIGNATURE": " -- me"}
    table = ok(tuichat(db, "pipes", "user-valves", "cli_valves")).stdout.splitlines()
    assert table[1].startswith("SIGNATURE  str   \" -- me\" (set)  \"\"")
    assert ok(tuichat(db, "run", "cli_valves", "hi", "--no-save")).stdout == "hi -- me\n"

    bad = tuichat(db, "pipes", "user-valves", "cli_valves", "--set", '{"SIGNATURE": 5}')
    assert bad.returncode == 2
    assert "invalid user valves for 'cli_valves'" in bad.stderr
    assert "SIGNATURE\n  Input should be a valid string" in bad.stderr
    assert user_valves_rows(db, "cli_valves") == [(local_user_id(db), {"SIGNATURE": " -- me"})]

    assert ok(tuichat(db, "pipes", "user-valves", "cli_valves", "--set", '{"SIGNATURE": null}')).stdout == "stored: {}\n"
    assert user_valves_rows(db, "cli_valves") == [(local_user_id(db), {})]


def test_user_valves_still_apply_when_user_fields_are_overridden(db: Path) -> None:
    """`run --user` changes what `__user__` shows (to match a recorded trace); the
    local user's stored user valves must still reach the pipe."""
    add_pipe(db, "cli_valves")
    ok(tuichat(db, "pipes", "user-valves", "cli_valves", "--set", '{"SIGNATURE": " -- me"}'))
    result = ok(tuichat(db, "run", "cli_valves", "hi", "--no-save", "--user", json.dumps(ORACLE_USER)))
    assert result.stdout == "hi -- me\n"


def test_valves_of_a_pipe_without_them(db: Path) -> None:
    add_pipe(db, "cli_report")
    for action, kind in (("valves", "Valves"), ("user-valves", "UserValves")):
        result = tuichat(db, "pipes", action, "cli_report", "--set", '{"X": 1}')
        assert result.returncode == 2, action
        assert f"function 'cli_report' has no {kind} class" in result.stderr
        assert result.stdout == ""
    assert function_valves(db, "cli_report") == {}
    assert user_valves_rows(db, "cli_report") == []
    missing = tuichat(db, "pipes", "valves", "nosuch")
    assert missing.returncode == 2
    assert "no function 'nosuch' is stored" in missing.stderr


# -- 4. run -----------------------------------------------------------------------------
def test_run_streams_the_reply_to_stdout_and_events_to_stderr(db: Path) -> None:
    result = ok(tuichat(db, "run", "events", "show me"))
    assert "This reply is a tour of the events a pipe can send.\n" in result.stdout
    assert "**Follow-ups**: suggested next questions appear below this reply.\n" in result.stdout
    assert not any(line.startswith("[") for line in result.stdout.splitlines())
    errors = result.stderr.splitlines()
    assert errors, "no events were printed"
    assert all(line.startswith("[") for line in errors), errors  # one line per event
    assert any(line.startswith("[status") and "Tour complete" in line for line in errors), errors
    assert "[notification] warning: And this is a warning." in errors
    assert "[notification] info: This is an info notification." in errors
    assert errors.index("[notification] info: This is an info notification.") < errors.index(
        "[notification] warning: And this is a warning."
    )


def report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    ok(result)
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1, result.stdout
    return json.loads(result.stdout)


def test_run_passes_stream_system_stdin_and_metadata(db: Path) -> None:
    add_pipe(db, "cli_report")
    streamed = report(tuichat(db, "run", "cli_report", "hello", "--no-save"))
    assert streamed["stream"] is True
    assert streamed["messages"] == [{"role": "user", "content": "hello"}]

    not_streamed = report(tuichat(db, "run", "cli_report", "hello", "--no-stream", "--no-save", "--system", "Be brief."))
    assert not_streamed["stream"] is False
    assert not_streamed["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]

    piped = report(tuichat(db, "run", "cli_report", "--no-save", input="from stdin\nline two\n"))
    assert piped["messages"] == [{"role": "user", "content": "from stdin\nline two"}]

    meta = report(tuichat(db, "run", "cli_report", "hi", "--no-save", "--metadata", '{"chat_id": "c9", "extra": [1, 2]}'))
    assert (meta["metadata_chat_id"], meta["chat_id"], meta["metadata_extra"]) == ("c9", "c9", [1, 2])
    assert chat_count(db) == 0  # --no-save

    empty = tuichat(db, "run", "cli_report", "--no-save", input="  \n")
    assert empty.returncode == 2
    assert "no message: give it as an argument or on stdin" in empty.stderr


ASK_ALL = """\
Thanks! Here is what you told me:

- **Name:** Al
- **Secret:** 6 characters long (not shown).
- **Colour:** blue
"""


def test_run_answers_event_calls_from_reply_options(db: Path) -> None:
    result = ok(tuichat(db, "run", "ask", "hi", "--no-save", "--reply", "true", "--reply", '"Al"', "--reply", '"hunter"', "--reply", '"blue"'))
    assert result.stdout == ASK_ALL
    assert result.stderr.splitlines() == [
        "[call:confirmation] A few questions → true",
        '[call:input] Your name → "Al"',
        '[call:input] A secret → "••••••••"',  # a password is never shown, even one given by --reply
        '[call:input] Favourite colour → "blue"',
    ]
    # the last reply repeats
    repeated = ok(tuichat(db, "run", "ask", "hi", "--no-save", "--reply", "true", "--reply", '"Al"'))
    assert repeated.stdout == ASK_ALL.replace("6 characters", "2 characters").replace("blue", "Al")

    bad = tuichat(db, "run", "ask", "hi", "--no-save", "--reply", "yes")
    assert bad.returncode == 2
    assert "--reply is not valid JSON" in bad.stderr and "line 1, column 1" in bad.stderr


def test_run_without_replies_and_no_tty_gets_an_error_at_once(db: Path) -> None:
    result = ok(tuichat(db, "run", "ask", "hi", "--no-save", timeout=20))
    assert result.stdout == (
        "I couldn't ask you anything: the dialog failed "
        "(No one is there to answer: tuichat is running without an interactive front end.).\n"
    )
    assert result.stderr.startswith("[call:confirmation] A few questions → {\"error\": ")


def test_run_jsonl_prints_the_trace_then_the_reply(db: Path) -> None:
    result = ok(tuichat(db, "run", "echo", "one two", "--jsonl", "--no-save"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    request, *steps, final = lines
    assert request["request"]["body"]["messages"] == [{"role": "user", "content": "one two"}]  # the call record
    assert list(final) == ["reply"]
    assert final["reply"]["content"] == "one two"
    assert final["reply"]["status"] == "done"
    assert final["reply"]["error"] is None
    assert all(list(step) == ["sse"] for step in steps)
    assert steps[-1] == {"sse": "data: [DONE]"}
    chunks = [json.loads(step["sse"].removeprefix("data: ")) for step in steps[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "one two"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["model"] == "echo" for c in chunks)
    assert result.stderr == ""

    nostream = ok(tuichat(db, "run", "echo", "one two", "--jsonl", "--no-save", "--no-stream"))
    [_, step, final] = [json.loads(line) for line in nostream.stdout.splitlines()]
    assert step["response"]["choices"][0]["message"] == {"role": "assistant", "content": "one two"}
    assert final["reply"]["content"] == "one two"


def test_runs_are_saved_as_chats_and_can_be_continued(db: Path) -> None:
    add_pipe(db, "cli_report")
    first = report(tuichat(db, "run", "cli_report", "first question", "--system", "Sys."))
    chats = json.loads(ok(tuichat(db, "chats", "list", "--json")).stdout)
    assert len(chats) == 1
    chat = chats[0]
    assert (chat["title"], chat["model_id"]) == ("first question", "cli_report")
    assert chat["origin"] == "run"  # the app lists these apart from the chats started in it
    assert first["chat_id"] == chat["id"] == first["metadata_chat_id"]

    shown = json.loads(ok(tuichat(db, "chats", "show", chat["id"], "--json")).stdout)
    assert shown["id"] == chat["id"]
    messages = shown["messages"]
    assert [(m["role"], m["status"]) for m in messages] == [("user", "done"), ("assistant", "done")]
    assert messages[0]["content"] == "first question"
    assert json.loads(messages[1]["content"]) == first
    assert (messages[1]["model_id"], messages[1]["error"], messages[1]["parent_id"]) == ("cli_report", None, messages[0]["id"])

    # --chat continues it: the pipe sees the history (and the chat's system prompt)
    second = report(tuichat(db, "run", "cli_report", "second question", "--chat", chat["id"]))
    assert second["messages"] == [
        {"role": "system", "content": "Sys."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": messages[1]["content"]},
        {"role": "user", "content": "second question"},
    ]
    assert second["chat_id"] == chat["id"]
    assert chat_count(db) == 1
    shown = json.loads(ok(tuichat(db, "chats", "show", chat["id"], "--json")).stdout)
    assert [(m["role"], m["status"]) for m in shown["messages"]] == [("user", "done"), ("assistant", "done")] * 2
    assert shown["messages"][2]["parent_id"] == shown["messages"][1]["id"]

    # --no-save adds nothing; an unknown --chat is refused
    ok(tuichat(db, "run", "echo", "not kept", "--no-save"))
    assert chat_count(db) == 1
    assert query(db, "SELECT count(*) FROM message") == [(4,)]
    unknown = tuichat(db, "run", "echo", "hi", "--chat", "nope")
    assert unknown.returncode == 2
    assert "no chat 'nope' is stored" in unknown.stderr
    assert query(db, "SELECT count(*) FROM message") == [(4,)]


# -- 5. the conformance cases, from the shell -------------------------------------------
# A family is the cases that try one part of the pipe contract; the first word of a case's
# folder names it: async_*, sync_*, yield_*, return_*, raise_*, manifold_*, sig_*, valves*,
# events, frontmatter. Two folders start with another word than their topic and are placed
# by name. Each family is replayed in the test's process (tests/cli_helpers.py's `tuichat_many`,
# the console script's entry point) on one database: every case's pipe is added with `tuichat pipes add`, then for
# each recorded run its valves are set or reset and `tuichat run --jsonl` prints the trace
# that is compared with the recording, as one process per command would.
FAMILY_OF = {"gen_raise_before_yield": "raise", "event_call": "events"}


def _conformance_cases() -> list[str]:
    return sorted(d.name for d in CASES.iterdir() if d.is_dir())


def _conformance_families() -> dict[str, list[str]]:
    families: dict[str, list[str]] = {}
    for name in _conformance_cases():
        families.setdefault(FAMILY_OF.get(name, name.split("_", 1)[0]), []).append(name)
    return families


def _is_error_step(step: dict[str, Any]) -> bool:
    if "raised" in step:
        return True
    if isinstance(step.get("response"), dict) and "error" in step["response"]:
        return True
    sse = step.get("sse")
    if isinstance(sse, str) and sse.startswith("data: {"):
        try:
            payload = json.loads(sse.removeprefix("data: "))
        except ValueError:
            return False
        return isinstance(payload, dict) and "error" in payload
    return False


def test_every_case_is_in_one_family() -> None:
    families = _conformance_families()
    assert sorted(name for names in families.values() for name in names) == _conformance_cases()
    assert sorted(families) == [
        "async", "events", "frontmatter", "manifold", "raise", "return", "sig", "sync", "valves", "yield",
    ]  # fmt: skip


@pytest.mark.parametrize("family", list(_conformance_families()))
def test_conformance_family_from_the_shell(family: str, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    commands: list[list[str]] = []
    purposes: list[tuple[str, dict[str, Any]]] = []  # ("add", case) | ("valves", run) | ("run", run), per command
    for case_name in _conformance_families()[family]:
        case = json.loads((CASES / case_name / "runs.json").read_text(encoding="utf-8"))
        fid = case["function_id"]
        # --replace: the `events` case shares its id with a seeded example
        commands.append(["pipes", "add", str(CASES / case_name / "pipe.py"), "--id", fid, "--replace"])
        purposes.append(("add", case))
        valves_set = {"valves": False, "user-valves": False}
        for run in case["runs"]:
            for action, values in (("valves", run["valves"]), ("user-valves", run["user_valves"])):
                if values is not None:
                    commands.append(["pipes", action, fid, "--set", json.dumps(values)])
                    purposes.append(("valves", run))
                    valves_set[action] = True
                elif valves_set[action]:
                    commands.append(["pipes", action, fid, "--reset"])
                    purposes.append(("valves", run))
                    valves_set[action] = False
            args = ["run", run["model"], run["message"], "--jsonl", "--no-save", "--bare"]
            args += ["--metadata", json.dumps(ORACLE_METADATA), "--user", json.dumps(ORACLE_USER)]
            if not run["stream"]:
                args.append("--no-stream")
            for reply in run["call_replies"] or []:
                args += ["--reply", json.dumps(reply)]
            commands.append(args)
            purposes.append(("run", run))

    failures = []
    for (purpose, what), result in zip(purposes, tuichat_many(db, commands), strict=True):
        if purpose == "add":
            added = ok(result)
            verb = "updated" if what["function_id"] in EXAMPLES else "added"
            assert added.stdout.startswith(f"{verb} pipe '{what['function_id']}' ({what['function_name']})\n")
            continue
        if purpose == "valves":
            ok(result)
            continue
        run = what
        if run["name"].endswith("__unlisted_bare_id"):
            # `tuichat run` is a chat: like Open WebUI's, it refuses a model it does not list.
            assert result.returncode == 2 and result.stdout == "", result.stderr
            assert "is a manifold, not a model: its models are:" in result.stderr
            continue
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert lines and list(lines[-1]) == ["reply"], f"{run['name']}: {result.stdout}\n{result.stderr}"
        # The call record and captured output are tuichat's side channel, not Open WebUI's wire.
        trace = [normalise(step) for step in lines[:-1] if not {"request", "log"} & set(step)]
        expected_status = 1 if any(_is_error_step(step) for step in run["expected"]) else 0
        if trace != run["expected"] or result.returncode != expected_status:
            failures.append(
                f"{run['name']}: exit {result.returncode} (expected {expected_status})\n"
                f"got:      {json.dumps(trace)}\nexpected: {json.dumps(run['expected'])}\nstderr: {result.stderr}"
            )
    assert not failures, "\n\n".join(failures)


# -- 6. bad input -----------------------------------------------------------------------
BAD_FILES: dict[str, tuple[bytes | None, int, list[str]]] = {
    # name: (content written to tmp, or None for the stored cli_ file; exit status; message fragments)
    "cli_not_utf8": (b'class Pipe:\n    def pipe(self, body):\n        return "caf\xe9"\n', 2, ["is not UTF-8 text", "byte 0xe9 at offset 57"]),
    "cli_empty": (b"  \n\n", 2, ["is empty", "class Pipe"]),
    "cli_syntax": (b"class Pipe:\n    def pipe(self, body)\n        return 1\n", 1, ["function 'cli_syntax' failed to load", "SyntaxError: expected ':'", "line 2, column 25"]),
    "cli_no_class": (None, 1, ["function 'cli_no_class' failed to load", "No Function class found"]),
    "cli_init_raises": (None, 1, ["function 'cli_init_raises' failed to load: ValueError: init boom", 'File "cli_init_raises.py", line 3, in __init__', 'raise ValueError("init boom")']),
}  # fmt: skip


@pytest.fixture
def seeded_db(db: Path) -> Path:
    ok(tuichat(db, "pipes", "list"))
    return db


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_refused_and_nothing_changes(name: str, seeded_db: Path, tmp_path: Path) -> None:
    content, status, fragments = BAD_FILES[name]
    if content is None:
        path = PIPES / f"{name}.py"
    else:
        path = tmp_path / f"{name}.py"
        path.write_bytes(content)
    before = function_rows(seeded_db)
    result = tuichat(seeded_db, "pipes", "add", str(path))
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"
    if status == 2:  # the file itself is unusable: the message names it
        assert str(path) in result.stderr
    assert function_rows(seeded_db) == before


def test_missing_file_is_refused(seeded_db: Path, tmp_path: Path) -> None:
    before = function_rows(seeded_db)
    path = tmp_path / "nowhere" / "cli_missing.py"
    result = tuichat(seeded_db, "pipes", "add", str(path))
    assert result.returncode == 2
    assert result.stderr == f"tuichat: cannot read {path}: No such file or directory\n"
    assert function_rows(seeded_db) == before


def test_pipes_raising_is_stored_with_a_warning(db: Path) -> None:
    added = ok(tuichat(db, "pipes", "add", str(PIPES / "cli_pipes_raises.py")))
    assert added.stdout == "added pipe 'cli_pipes_raises' (cli_pipes_raises)\nmodels: none\n"
    assert "warning" in added.stderr and "RuntimeError: listing boom" in added.stderr

    models = ok(tuichat(db, "models", "--json"))
    assert [m["id"] for m in json.loads(models.stdout) if m["id"].startswith("cli_")] == []
    assert models.stderr.startswith("tuichat: cli_pipes_raises: ")
    assert "RuntimeError: listing boom" in models.stderr

    [row] = [r for r in json.loads(ok(tuichat(db, "pipes", "list", "--json")).stdout) if r["id"] == "cli_pipes_raises"]
    assert row["is_active"] is True
    assert "RuntimeError: listing boom" in row["load_error"]


def test_pipe_raising_fails_the_run_with_its_traceback(db: Path) -> None:
    add_pipe(db, "cli_pipe_raises")
    for extra in ((), ("--no-stream",)):
        result = tuichat(db, "run", "cli_pipe_raises", "hi", *extra)
        assert result.returncode == 1, extra
        assert result.stdout == ""
        err = result.stderr.splitlines()
        assert "error: pipe boom 42" in err, result.stderr
        assert '  File "cli_pipe_raises.py", line 4, in pipe' in err, result.stderr
        assert '    raise RuntimeError(f"pipe boom {answer}")' in err, result.stderr
        assert err[-1] == "RuntimeError: pipe boom 42"
        assert "tuichat/runtime" not in result.stderr  # only the pipe's own frames
    stored = query(db, "SELECT status, error FROM message WHERE role = 'assistant'")
    assert stored == [("error", "pipe boom 42")] * 2
    # the pipe stays usable: a failed call is not a failed load
    assert query(db, "SELECT is_active FROM function WHERE id = 'cli_pipe_raises'") == [(1,)]


def test_unknown_model_and_bad_metadata(seeded_db: Path) -> None:
    unknown = tuichat(seeded_db, "run", "nosuch.model", "hi")
    assert unknown.returncode == 2
    assert "unknown model 'nosuch.model': no pipe function 'nosuch' is stored" in unknown.stderr
    bad = tuichat(seeded_db, "run", "echo", "hi", "--metadata", "{chat_id: 1}")
    assert bad.returncode == 2
    assert "--metadata is not valid JSON" in bad.stderr and "line 1, column 2" in bad.stderr
    not_object = tuichat(seeded_db, "run", "echo", "hi", "--metadata", '"c9"')
    assert not_object.returncode == 2
    assert "--metadata must be a JSON object" in not_object.stderr
    usage = tuichat(seeded_db, "run")
    assert usage.returncode == 2
    assert "usage: tuichat run" in usage.stderr
    assert chat_count(seeded_db) == 0


def test_db_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    result = tuichat(folder, "pipes", "list")
    assert result.returncode == 2
    assert f"{folder} is a folder, not a database file" in result.stderr
    assert list(folder.iterdir()) == []


def test_db_that_is_not_sqlite_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    junk = os.urandom(8192)
    path.write_bytes(junk)
    result = tuichat(path, "pipes", "list")
    assert result.returncode == 2
    assert f"{path} is not an SQLite database" in result.stderr
    assert path.read_bytes() == junk
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.db"]


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_db(db: Path, what: str) -> None:
    ok(tuichat(db, "pipes", "list"))
    before = function_rows(db)
    locked = db if what == "file" else db.parent
    mode = locked.stat().st_mode
    locked.chmod(0o444 if what == "file" else 0o555)
    # Root ignores file modes; setpriv drops that override for the child, as for any user.
    prefix: tuple[str, ...] = ()
    if os.access(locked, os.W_OK):
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: chmod does not make the path read-only")
        prefix = (setpriv, "--inh-caps=-all", "--bounding-set=-all")
    try:
        result = tuichat(db, "pipes", "add", str(PIPES / "cli_report.py"), prefix=prefix)
        assert result.returncode == 2
        assert str(db) in result.stderr and "read-only" in result.stderr
        run = tuichat(db, "run", "echo", "hi", prefix=prefix)
        assert run.returncode == 2
        assert str(db) in run.stderr and "read-only" in run.stderr
    finally:
        locked.chmod(mode)
    assert function_rows(db) == before


# -- 7. concurrency ---------------------------------------------------------------------
def test_two_runs_at_once_on_a_fresh_db(tmp_path: Path) -> None:
    for pair in range(5):
        db = tmp_path / f"pair{pair}.db"
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tuichat", "--db", str(db), "run", "echo", f"hello {pair}-{n}"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                env=cli_env(),
            )
            for n in range(2)
        ]
        outputs = [p.communicate(timeout=TIMEOUT) for p in procs]
        for n, (proc, (out, err)) in enumerate(zip(procs, outputs)):
            assert "database is locked" not in err
            assert (proc.returncode, out, err) == (0, f"hello {pair}-{n}\n", ""), f"pair {pair}, run {n}: {err}"
        assert sorted(t for (t,) in query(db, "SELECT title FROM chat")) == [f"hello {pair}-0", f"hello {pair}-1"]
        assert [r[0] for r in function_rows(db)] == sorted(EXAMPLES)


# -- 8. the console script --------------------------------------------------------------
def test_console_script() -> None:
    exe = console_script()
    assert exe is not None, "the tuichat console script is not on PATH"
    version = subprocess.run([exe, "--version"], check=False, capture_output=True, text=True, env=cli_env(), timeout=TIMEOUT)
    assert (version.returncode, version.stdout) == (0, f"tuichat {__version__}\n")
    helped = subprocess.run([exe, "--help"], check=False, capture_output=True, text=True, env=cli_env(), timeout=TIMEOUT)
    assert helped.returncode == 0
    assert helped.stdout.startswith("usage: tuichat")
    for word in ("pipes", "models", "run", "chats", "exit status: 0 success, 1 the pipe failed, 2 the command was wrong"):
        assert word in helped.stdout


def test_db_may_follow_the_command_words(tmp_path: Path) -> None:
    db = tmp_path / "late.db"
    result = subprocess.run(
        [sys.executable, "-m", "tuichat", "run", "echo", "late option", "--db", str(db)],
        capture_output=True, text=True, env=cli_env(), stdin=subprocess.DEVNULL, timeout=TIMEOUT, check=False,
    )
    assert (result.returncode, result.stdout) == (0, "late option\n")
    assert query(db, "SELECT content FROM message WHERE role = 'user'") == [("late option",)]


# -- 9. the launcher: the app starts without the CLI's commands or the pipe runtime --------
def python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], check=False, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, encoding="utf-8", env=cli_env(), timeout=TIMEOUT,
    )


# Nothing of these may be imported before the app is started: the CLI's commands pull in the
# pipe runtime (pydantic, the loader, pip's helpers), which the app starts after its first frame.
NOT_BEFORE_THE_APP = ("tuichat.cli.commands", "tuichat.cli.pipes", "tuichat.cli.run", "tuichat.runtime", "pydantic", "packaging")


def _loaded(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.startswith(prefixes) and (m in prefixes or m.startswith(tuple(p + "." for p in prefixes)))]


def test_the_launcher_parses_the_command_line_with_nothing_heavy() -> None:
    result = ok(python(
        "import json, sys\n"
        "import tuichat.launch\n"
        "from tuichat.cli.parser import build_parser\n"
        "args = build_parser().parse_args(['--db', 'x.db'])\n"
        "print(json.dumps([args.command, sorted(sys.modules)]))"
    ))  # fmt: skip
    command, modules = json.loads(result.stdout)
    assert command is None
    assert [m for m in modules if m == "tuichat" or m.startswith("tuichat.")] == ["tuichat", "tuichat.cli", "tuichat.cli.parser", "tuichat.launch"]
    assert _loaded(modules, (*NOT_BEFORE_THE_APP, "tuichat.store", "textual", "rich", "aiosqlite")) == []


def test_without_a_command_the_console_script_starts_the_app_before_any_runtime(tmp_path: Path) -> None:
    """The installed console script, run as it is, with `tuichat.ui.app` standing in: what was
    imported when it hands over to the app, and with which arguments."""
    exe = console_script()
    assert exe is not None, "the tuichat console script is not on PATH"
    result = ok(python(
        "import json, runpy, sys, types\n"
        "app = types.ModuleType('tuichat.ui.app')\n"
        "def run_app(path, watch=None, fresh=False):\n"
        "    print(json.dumps([str(path), [str(p) for p in watch], sorted(sys.modules)]))\n"
        "    return 0\n"
        "app.run_app = run_app\n"
        "sys.modules['tuichat.ui.app'] = app\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')",
        exe, "--db", str(tmp_path / "app.db"), "--watch", "a.py",
    ))  # fmt: skip
    path, watch, modules = json.loads(result.stdout)
    assert (path, watch) == (str(tmp_path / "app.db"), ["a.py"])
    assert "tuichat.launch" in modules
    assert _loaded(modules, NOT_BEFORE_THE_APP) == []
    assert not (tmp_path / "app.db").exists()  # the app opens the store, not the launcher


def test_python_m_tuichat_and_the_console_script_are_the_launcher(tmp_path: Path) -> None:
    from importlib.metadata import entry_points

    [script] = [ep for ep in entry_points(group="console_scripts") if ep.name == "tuichat"]
    assert script.value == "tuichat.launch:main"
    exe = console_script()
    assert exe is not None, "the tuichat console script is not on PATH"
    for words in (["--version"], ["--help"], ["pipes", "--help"]):
        by_module = subprocess.run([sys.executable, "-m", "tuichat", *words], capture_output=True, text=True, env=cli_env(), timeout=TIMEOUT)
        by_script = subprocess.run([exe, *words], capture_output=True, text=True, env=cli_env(), timeout=TIMEOUT)
        assert (by_module.returncode, by_module.stdout) == (by_script.returncode, by_script.stdout) == (0, by_script.stdout)
    assert by_script.stdout.startswith("usage: tuichat pipes")
    db = tmp_path / "script.db"
    ran = subprocess.run(
        [exe, "--db", str(db), "run", "echo", "from the console script"], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, env=cli_env(), timeout=TIMEOUT,
    )
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "from the console script\n", "")
    assert ok(tuichat(db, "chats", "list", "--json")).stdout.count('"from the console script"') == 1


def test_the_cli_alone_needs_a_command() -> None:
    """`tuichat.cli.main` is the CLI without the app: no command is a usage error, not the TUI."""
    result = python("import sys; from tuichat.cli import main; sys.exit(main([]))")
    assert result.returncode == 2
    assert "a command is required" in result.stderr
    assert result.stdout == ""
