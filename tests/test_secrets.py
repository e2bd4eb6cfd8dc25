"""A password answer is never kept, shown or printed, and the files that hold valves are private:
`tuichat run` in one process on a real SQLite file, and the export on stored rows."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.cli_helpers import query, tuichat_many
from tuichat.runtime.export import chat_to_json
from tuichat.runtime.transfer import write_private
from tuichat.store import Store

SECRET = "hunter2"
ASK = ["run", "ask", "hi", "--reply", "true", "--reply", '"Al"', "--reply", f'"{SECRET}"', "--reply", '"green"']


def test_run_never_prints_or_stores_a_password_and_makes_a_private_database(tmp_path: Path) -> None:
    db = tmp_path / "new" / "x.db"
    shown, traced = tuichat_many(db, [ASK, [*ASK, "--jsonl"]])
    assert (shown.returncode, traced.returncode) == (0, 0)
    assert "7 characters" in shown.stdout  # the pipe got the real answer
    assert '[call:input] A secret → "••••••••"' in shown.stderr
    for output in (shown.stdout, shown.stderr, traced.stdout, traced.stderr):
        assert SECRET not in output
    steps = [json.loads(line) for line in traced.stdout.splitlines()]
    assert {"masked": True} in [step.get("reply") for step in steps]
    [activity] = [step["reply"]["activity"] for step in steps if isinstance(step.get("reply"), dict) and "activity" in step["reply"]]
    assert {"masked": True} in [entry["data"].get("reply") for entry in activity if entry["kind"] == "call"]
    events = [json.loads(data) for (data,) in query(db, "SELECT data FROM message_event")]
    masked = [event for event in events if event.get("reply") == {"masked": True}]
    assert [event["call"]["data"]["title"] for event in masked] == ["A secret"] * 2  # one per run
    assert SECRET.encode() not in db.read_bytes()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_a_database_others_can_read_is_warned_about_once(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    first, = tuichat_many(db, [["chats", "list"]])
    assert "warning" not in first.stderr
    db.chmod(0o644)
    warned, quiet = tuichat_many(db, [["chats", "list"], ["chats", "list"]])
    assert f"tuichat: warning: {db} can be read by other users (mode 644)" in warned.stderr
    assert f"chmod 600 {db}" in warned.stderr and warned.returncode == 0
    assert quiet.stderr == "" and stat.S_IMODE(db.stat().st_mode) == 0o644  # said once; not changed behind your back
    db.chmod(0o600)
    tuichat_many(db, [["chats", "list"]])
    db.chmod(0o604)
    again, = tuichat_many(db, [["chats", "list"]])
    assert "can be read by other users (mode 604)" in again.stderr  # readable again after being private


async def test_the_json_export_masks_a_password_stored_in_clear_by_an_older_tuichat(store: Store) -> None:
    call = {"type": "input", "data": {"title": "Key", "input": {"type": "password", "value": "sk-default"}}}
    chat = await store.chats.create("old", "ask")
    reply = await store.chats.add_message(chat.id, "assistant", "ok", model_id="ask")
    for seq, data in enumerate([{"call": call, "reply": SECRET}, {"event": {"type": "status"}}]):
        await store.execute("INSERT INTO message_event (message_id, seq, at, data) VALUES (?, ?, ?, ?)", (reply.id, seq, 0.1, json.dumps(data)))
    messages = await store.chats.messages(chat.id)
    exported = chat_to_json(chat, messages, {reply.id: await store.chats.events(reply.id)})
    text = json.dumps(exported)
    assert SECRET not in text and "sk-default" not in text
    [masked, status] = [event["data"] for event in exported["messages"][0]["events"]]
    assert masked["reply"] == {"masked": True} and masked["call"]["data"]["input"]["value"] == "••••••••"
    assert status == {"event": {"type": "status"}}


def test_an_export_overwriting_a_readable_file_makes_it_private(tmp_path: Path) -> None:
    target = tmp_path / "functions.json"
    target.write_text("old")
    target.chmod(0o644)
    write_private(target, "[]")
    assert (target.read_text(), stat.S_IMODE(target.stat().st_mode)) == ("[]", 0o600)
