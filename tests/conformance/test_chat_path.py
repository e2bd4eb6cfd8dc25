"""The chat-path checker: every case in tests/conformance/chat (recorded from Open WebUI
0.12.4's `chat_completion`) run exactly as its README's table says, through the real
`tuichat` CLI (all of a case's commands through the console script's entry point in the test's
process: tests/cli_helpers.py's `tuichat_many`), and the reply compared with the recording
(echo and content, error, statuses), both sides normalised. Each case runs on its own fresh
database (`--db` after the command words): a process per case would cost the suite a minute."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import tuichat_many
from tests.conformance.chat_normalise import comparable, statuses

CASES = Path(__file__).parent / "chat"
USER = {"id": "u1", "email": "u@example.com", "name": "User", "role": "admin"}
NAMES = sorted(d.name for d in CASES.iterdir() if (d / "case.json").exists())


@pytest.fixture(scope="module")
def chat_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """Every case's commands, run in one process; each case's results by name."""
    folder = tmp_path_factory.mktemp("chat")
    plan: list[tuple[str, list[str]]] = []
    for name in NAMES:
        case = json.loads((CASES / name / "case.json").read_text())
        db = folder / f"{name}.db"
        plan += [(name, [*command, "--db", str(db)]) for command in commands(CASES / name, case, folder / name)]
    results = tuichat_many(folder / "unused.db", [command for _, command in plan], timeout=600)
    runs: dict[str, list[Any]] = {}
    for (name, _), result in zip(plan, results):
        runs.setdefault(name, []).append(result)
    return runs


def attachment_options(case: dict[str, Any], scratch: Path) -> list[str]:
    """Each upload written under its own name in a folder of its own (`--file`), each image's
    data URL decoded into `imageN.EXT` (`--image`), as the README's table says."""
    options: list[str] = []
    if case["request"].get("files") == "uploads":
        for index, upload in enumerate(case.get("uploads", [])):
            path = scratch / str(index) / upload["name"]
            path.parent.mkdir(parents=True, exist_ok=True)
            if "content_b64" in upload:
                path.write_bytes(base64.b64decode(upload["content_b64"]))
            else:
                path.write_text(upload["content"], encoding="utf-8")
            options += ["--file", str(path)]
    for index, image in enumerate(case["request"].get("user_message_files", [])):
        header, _, encoded = image["url"].partition(",")
        extension = header.removeprefix("data:").split(";")[0].split("/")[-1].replace("jpeg", "jpg")
        path = scratch / f"image{index}.{extension}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(encoded))
        options += ["--image", str(path)]
    return options


def commands(folder: Path, case: dict[str, Any], scratch: Path) -> list[list[str]]:
    """The README's table, row by row."""
    out: list[list[str]] = []
    for f in case.get("functions", []):
        out.append(["pipes", "add", str(folder / f["file"]), "--id", f["id"], "--name", f.get("name", f["id"]), "--replace"])
        if f.get("valves"):
            out.append(["pipes", "valves", f["id"], "--set", json.dumps(f["valves"])])
        if f.get("user_valves"):
            out.append(["pipes", "user-valves", f["id"], "--set", json.dumps(f["user_valves"])])
        if f.get("global"):
            out.append(["pipes", "global", f["id"], "on"])
        if f.get("active") is False:
            out.append(["pipes", "disable", f["id"]])
    for t in case.get("tools", []):
        out.append(["tools", "add", str(folder / t["file"]), "--id", t["id"], "--name", t.get("name", t["id"]), "--replace"])
        if t.get("valves"):
            out.append(["tools", "valves", t["id"], "--set", json.dumps(t["valves"])])
        if t.get("user_valves"):
            out.append(["tools", "user-valves", t["id"], "--set", json.dumps(t["user_valves"])])
    for model in case.get("models", []):
        filters = ",".join(model.get("meta", {}).get("filterIds", []))
        out.append(["models", "set", model["id"], "--filters", filters, "--json", json.dumps(model)])
    request = case["request"]
    run = ["run", request["model"], request["message"], "--jsonl", "--no-save", "--user", json.dumps(USER)]
    if request.get("stream") is False:
        run.append("--no-stream")
    for fid in request.get("filter_ids", []):
        run += ["--filter", fid]
    for tid in request.get("tool_ids", []):
        run += ["--tool", tid]
    for key, value in (request.get("params") or {}).items():
        run += ["--param", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    out.append(run + attachment_options(case, scratch))
    return out


def reply_of(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.split("\n") if line.startswith('{"reply": ')]
    assert lines, f"no reply line in:\n{stdout[-2000:]}"
    return json.loads(lines[-1])["reply"]


def expected_error(message: dict[str, Any]) -> Any:
    error = message.get("error")
    if not error:
        return None
    content = error.get("content") if isinstance(error, dict) else error
    return content.get("detail") if isinstance(content, dict) else content


# The first case also runs every case's commands (the fixture): on a busy machine that
# takes longer than the suite's per-test limit.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NAMES)
def test_chat_case(name: str, chat_runs: dict[str, list[Any]]) -> None:
    recorded = json.loads((CASES / name / "expected.json").read_text())["db"]["assistant_message"]
    assert name in chat_runs, "not expressible with the CLI yet"
    results = chat_runs[name]
    for result in results[:-1]:
        assert result.returncode == 0, f"{result.args}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    reply = reply_of(results[-1].stdout)
    ours, _ = comparable(reply["content"])
    theirs, _ = comparable(recorded["content"], ids=[])
    echo = [p for p in ours if isinstance(p, list) and p[0] == "PIPE_ECHO"]
    recorded_echo = [p for p in theirs if isinstance(p, list) and p[0] == "PIPE_ECHO"]
    assert echo == recorded_echo
    assert ours == theirs
    assert reply["error"] == expected_error(recorded)
    assert statuses(reply["statuses"]) == statuses(recorded.get("statusHistory"))


def test_every_chat_case_is_collected() -> None:
    assert len(NAMES) == 23
