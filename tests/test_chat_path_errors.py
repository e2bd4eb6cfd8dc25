"""A filter that misbehaves in each hook (raises, returns None or the wrong type): the
outcome is Open WebUI 0.12.4's (tests/conformance/chat/README.md, "Errors"), and the user
sees which filter and hook failed. One `tuichat_many` runs every scenario (tests/cli_helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import tuichat_many

PIPES = Path(__file__).parent / "pipes" / "chatpath"
MODES = (
    "",
    "inlet_raise",
    "inlet_none",
    "inlet_str",
    "request_raise",
    "stream_raise",
    "stream_none",
    "outlet_raise",
    "outlet_none",
)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("bad") / "bad.db"
    setup = [
        ["pipes", "add", str(PIPES / "words_pipe.py"), "--id", "words"],
        ["pipes", "add", str(PIPES / "bad_filter.py"), "--id", "bad"],
        ["pipes", "add", str(PIPES / "footer_filter.py"), "--id", "footer"],
        ["pipes", "global", "bad", "on"],
        ["pipes", "global", "footer", "on"],
    ]
    runs: list[list[str]] = []
    for mode in MODES:
        runs.append(["pipes", "valves", "bad", "--set", json.dumps({"MODE": mode})])
        runs.append(["run", "words", "hi", "--jsonl", "--no-save"])
        runs.append(["run", "words", "hi", "--no-save"])  # what a person sees
    runs.append(["run", "words", "fail mid-stream", "--jsonl", "--no-save"])
    runs.append(["run", "words", "fail mid-stream", "--jsonl", "--no-save", "--bare"])
    results = tuichat_many(db, setup + runs)
    for result in results[: len(setup)]:
        assert result.returncode == 0, result.stderr
    out: dict[str, Any] = {}
    for index, mode in enumerate(MODES):
        _, jsonl, plain = results[len(setup) + 3 * index : len(setup) + 3 * index + 3]
        reply = json.loads(jsonl.stdout.strip().split("\n")[-1])["reply"]
        out[mode] = (reply, plain)
    out["mid-stream"], out["mid-stream bare"] = (json.loads(r.stdout.strip().split("\n")[-1])["reply"] for r in results[-2:])
    return out


def failures(reply: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["data"] for e in reply["activity"] if e["kind"] == "log" and e["data"].get("error")]


def hooks_ran(reply: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["data"]["filter"], e["data"]["hook"]) for e in reply["activity"] if e["kind"] == "log" and "ms" in e["data"]]


def test_a_good_turn_lists_each_hook_that_ran(outcomes: dict[str, Any]) -> None:
    reply, plain = outcomes[""]
    assert (reply["content"], reply["error"]) == ("one two three [footer]", None)
    assert hooks_ran(reply) == [("bad", "inlet"), ("bad", "request"), ("bad", "stream"), ("bad", "outlet"), ("footer", "outlet")]
    assert plain.stdout == "one two three\n" or plain.stdout.startswith("one two three")


@pytest.mark.parametrize(
    ("mode", "error", "hook", "shown"),
    [
        ("inlet_raise", "inlet says no", "inlet", "filter 'bad' inlet failed"),
        (
            "inlet_none",
            "'NoneType' object has no attribute 'pop'",
            "inlet",
            "filter 'bad' inlet returned NoneType instead of the body",
        ),
        ("inlet_str", "'str' object has no attribute 'pop'", "inlet", "filter 'bad' inlet returned str instead of the body"),
        ("request_raise", "request says no", "request", "filter 'bad' request failed"),
    ],
)
def test_a_failing_inlet_or_request_hook_fails_the_turn_before_the_pipe(
    outcomes: dict[str, Any], mode: str, error: str, hook: str, shown: str
) -> None:
    reply, plain = outcomes[mode]
    assert (reply["content"], reply["error"], reply["status"]) == ("", error, "error")
    [failure] = failures(reply)
    assert (failure["filter"], failure["hook"]) == ("bad", hook)
    assert failure["error"].startswith(shown) and "Traceback" in failure["traceback"]
    assert not any(e["kind"] == "request" for e in reply["activity"])  # the pipe was never called
    assert f"error: {error}" in plain.stdout + plain.stderr
    assert shown in plain.stdout + plain.stderr  # the person sees which filter and hook


@pytest.mark.parametrize("mode", ["stream_raise", "stream_none"])
def test_a_stream_hook_that_fails_drops_only_that_chunk(outcomes: dict[str, Any], mode: str) -> None:
    reply, plain = outcomes[mode]
    assert (reply["content"], reply["error"]) == ("one three [footer]", None)
    entries = [e["data"] for e in reply["activity"] if e["kind"] == "log" and e["data"].get("outcome")]
    assert [(e["filter"], e["hook"], e["outcome"].split(" ")[0]) for e in entries] == [("bad", "stream", "chunk")]
    if mode == "stream_raise":
        assert "KeyError: 'stream broke'" in entries[0]["error"]
    assert "[filter bad stream] " in plain.stdout + plain.stderr


def test_an_outlet_that_raises_ends_the_outlet_stage_silently(outcomes: dict[str, Any]) -> None:
    reply, plain = outcomes["outlet_raise"]
    assert (reply["content"], reply["error"]) == ("one two three", None)  # footer's outlet never ran
    [failure] = failures(reply)
    assert (failure["filter"], failure["hook"]) == ("bad", "outlet")
    assert "outlet broke" in failure["error"] and "later outlets did not run" in failure["error"]
    assert "[filter bad outlet] filter 'bad' outlet failed" in plain.stdout + plain.stderr


def test_an_outlet_that_returns_none_breaks_the_next_outlet(outcomes: dict[str, Any]) -> None:
    # The footer filter gets None for its body and fails on it: the reply stays as streamed.
    reply, _ = outcomes["outlet_none"]
    assert (reply["content"], reply["error"]) == ("one two three", None)
    [failure] = failures(reply)
    assert (failure["filter"], failure["hook"]) == ("footer", "outlet")


def test_model_settings_and_global_commands(tmp_path: Path) -> None:
    db = tmp_path / "models.db"
    row = {"id": "words", "base_model_id": None, "name": "Words", "meta": {"filterIds": ["bad"]}, "params": {"seed": 1}}
    results = tuichat_many(db, [
        ["pipes", "add", str(PIPES / "words_pipe.py"), "--id", "words"],
        ["pipes", "add", str(PIPES / "bad_filter.py"), "--id", "bad"],
        ["pipes", "global", "words", "on"],
        ["models", "set", "words", "--filters", "nosuch"],
        ["models", "set", "words", "--json", json.dumps(row)],
        ["models", "show", "words"],
        ["run", "words", "hi", "--jsonl", "--no-save", "--param", "temperature=0.5", "--param", "stop=end"],
        ["models", "set", "words", "--json", '{"meta": []}'],
        ["models", "reset", "words"],
        ["models", "show", "words"],
        ["run", "words", "hi", "--param", "novalue"],
    ])  # fmt: skip
    refused_global, unknown_filter = results[2], results[3]
    assert refused_global.returncode == 2 and "'words' is a pipe, not a filter" in refused_global.stderr
    assert unknown_filter.returncode == 2 and "no filter 'nosuch' is stored" in unknown_filter.stderr
    shown = json.loads(results[5].stdout)
    assert {k: shown[k] for k in ("id", "name", "meta", "params")} == {k: row[k] for k in ("id", "name", "meta", "params")}
    reply = json.loads(results[6].stdout.strip().split("\n")[-1])["reply"]
    ran = [(e["data"]["filter"], e["data"]["hook"]) for e in reply["activity"] if e["kind"] == "log" and "ms" in e["data"]]
    assert ("bad", "inlet") in ran  # attached by the row, though not global
    [request] = [e["data"] for e in reply["activity"] if e["kind"] == "request"]
    assert (request["body"]["temperature"], request["body"]["stop"], request["body"]["seed"]) == (0.5, "end", 1)
    assert results[7].returncode == 2 and "meta must be a JSON object" in results[7].stderr
    assert results[8].returncode == 0 and results[9].returncode == 2 and "has no settings row" in results[9].stderr
    assert results[10].returncode == 2 and "write KEY=VALUE" in results[10].stderr


def test_a_pipe_failing_mid_stream_keeps_no_partial_text_on_the_chat_path(outcomes: dict[str, Any]) -> None:
    # Open WebUI's chat path stores "" (no outlets run); the bare call keeps the partial text.
    chat, bare = outcomes["mid-stream"], outcomes["mid-stream bare"]
    assert (chat["content"], chat["error"]) == ("", "the pipe broke")
    assert not [e for e in chat["activity"] if e["kind"] == "log" and e["data"].get("hook") == "outlet"]
    assert (bare["content"], bare["error"]) == ("partial", "the pipe broke")
