"""A password typed into an `__event_call__` dialog is the pipe's alone, and the files that hold
valves and chats are private: the app under Pilot on a real SQLite file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.ui.helpers import chat_app, finished, pick, send, stored, until
from tuichat.ui.screens.event_call import ConfirmationDialog, InputDialog
from tuichat.ui.screens.prompts import TextPromptScreen
from tuichat.ui.widgets.activity import ActivityPane

SIZE = (100, 30)
SECRET = "hunter2"


def pane_text(screen: object) -> str:
    return "\n".join(strip.text for strip in screen.query_one(ActivityPane).lines)  # type: ignore[attr-defined]


async def export(pilot: object, target: Path) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    await pilot.press("f9")  # type: ignore[attr-defined]
    await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))  # type: ignore[arg-type]
    app.screen.query_one("Input").value = str(target)
    await pilot.press("enter")  # type: ignore[attr-defined]
    await until(pilot, target.exists)  # type: ignore[arg-type]


async def test_a_typed_password_is_never_shown_stored_or_exported(db_path: Path, tmp_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "ask")
        await send(pilot, screen, "hi")
        await until(pilot, lambda: isinstance(app.screen, ConfirmationDialog))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InputDialog))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InputDialog) and bool(app.screen.query_one("Input").password))  # type: ignore[attr-defined]
        await pilot.press(*SECRET, "enter")
        await until(pilot, lambda: isinstance(app.screen, InputDialog) and bool(app.screen.query("Select")))
        await pilot.press("escape")
        view = await finished(pilot, screen)
        assert "7 characters" in view.reply.content  # the pipe got the real answer
        assert '[call:input] A secret → "••••••••"' in pane_text(screen) and SECRET not in pane_text(screen)
        await export(pilot, tmp_path / "chat.json")
        await export(pilot, tmp_path / "chat.md")
        chat_id = screen.chat.id  # type: ignore[union-attr]

    for name in ("chat.json", "chat.md"):
        exported = tmp_path / name
        assert SECRET not in exported.read_text(encoding="utf-8")
        assert stat.S_IMODE(exported.stat().st_mode) == 0o600, name
    events = [e["data"] for m in json.loads((tmp_path / "chat.json").read_text())["messages"] for e in m["events"]]
    assert {"masked": True} in [e.get("reply") for e in events]
    async with await stored(db_path) as store:
        reply = (await store.chats.messages(chat_id))[-1]
        rows = await store.chats.events(reply.id)
        assert SECRET not in json.dumps([data for _, data in rows]) and SECRET not in json.dumps(reply.extra)
    assert SECRET.encode() not in db_path.read_bytes()

    async with chat_app(db_path, SIZE) as (app, pilot, screen):  # after a restart
        await screen.open_chat(chat_id)
        await until(pilot, lambda: "A secret" in pane_text(screen))
        assert '[call:input] A secret → "••••••••"' in pane_text(screen) and SECRET not in pane_text(screen)


async def test_the_database_is_private_and_a_readable_one_is_warned_about_once(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(db_path.with_name(db_path.name + "-wal").stat().st_mode) == 0o600
        assert not [n for n in app._notifications if "readable" in n.title]
    db_path.chmod(0o644)
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        [warning] = [n for n in app._notifications if "readable by others" in n.title]
        assert f"chmod 600 {db_path}" in warning.message and warning.severity == "warning"
    async with chat_app(db_path, SIZE) as (app, pilot, _screen):
        assert not [n for n in app._notifications if "readable" in n.title]  # once, not every start
