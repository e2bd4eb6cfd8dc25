"""Remapped keys: TUICHAT_KEYMAP and the config file, what is wrong with them said at start (stderr
and a toast), and the command palette showing the keys as they are. The app under Pilot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ui.helpers import chat_app, until
from tuichat.ui import app as app_module
from tuichat.ui.app import TuichatApp, run_app
from tuichat.ui.keymap import KEYMAP_ENV, load_keymap
from tuichat.ui.keymap_check import check_keymap, scopes
from tuichat.ui.screens.model_picker import ModelPicker

SIZE = (100, 30)
UI = Path(app_module.__file__).parent
README = UI.parent.parent / "README.md"


def readme_keymap() -> str:
    [value] = re.findall(r'TUICHAT_KEYMAP="([^"]+)" tuichat', README.read_text(encoding="utf-8"))
    return value


def test_every_binding_id_in_the_ui_is_known_to_the_check() -> None:
    declared = {m for path in UI.rglob("*.py") for m in re.findall(r'Binding\([^)]*id="([^"]+)"', path.read_text(encoding="utf-8"))}
    known = {b.id for scope in scopes() for b in scope.bindings if b.id}
    assert declared and declared <= known, f"add the module declaring {sorted(declared - known)} to BINDING_MODULES"


def test_the_readme_example_works_and_the_old_one_clashes() -> None:
    env = {KEYMAP_ENV: readme_keymap()}
    assert load_keymap(env, Path("/nonexistent/config.toml")).problems == []
    usable, problems = check_keymap({"model.pick": "f1", "chat.new": "ctrl+t"}, {"chat.new": KEYMAP_ENV})
    assert "chat.new" not in usable and "model.pick" not in usable  # f1 is help now
    assert problems == [
        "keymap: model.pick=f1: f1 is already app.help (Help) on the chat screen; pick another key, or move app.help too",
        "TUICHAT_KEYMAP: chat.new=ctrl+t: ctrl+t is already chat.stream (Stream on/off) on the chat screen; "
        "pick another key, or move chat.stream too",
    ]


def test_unknown_ids_and_bad_keys_are_named_with_what_to_do(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nmodel.pick = "f9"\n"chat.search" = ["alt+s", "ctrl+tt"]\n"reply.copy" = 5\n', encoding="utf-8")
    keymap = load_keymap({KEYMAP_ENV: "chat.nwe=f11,model.pick=f11,reply.stop=ctrl+k,junk"}, config)
    assert keymap.bindings == {"model.pick": "f11"}  # the environment wins over the file
    assert sorted(keymap.problems) == sorted([
        f"{config}: chat.search=alt+s,ctrl+tt: 'tt' is not a key name (did you mean t?); names are like f11, ctrl+t, shift+up, escape, question_mark",
        f"{config}: reply.copy = 5 is not a key or a list of keys (e.g. \"f11\")",
        "TUICHAT_KEYMAP: chat.nwe=f11: no binding has the id 'chat.nwe'; did you mean chat.new? ctrl+p lists every id beside its key",
        "TUICHAT_KEYMAP: reply.stop=ctrl+k: ctrl+k is already delete_to_end_of_line_or_delete_line on the chat screen; pick another key",
        "TUICHAT_KEYMAP: 'junk' is not id=key (e.g. model.pick=f11)",
    ])  # fmt: skip
    config.write_text("[keymap\n", encoding="utf-8")
    [problem] = load_keymap({}, config).problems
    assert problem.startswith(f"{config}: not valid TOML (") and problem.endswith("its keymap is not used")
    assert load_keymap({}, tmp_path / "none.toml") == load_keymap({}, tmp_path / "none.toml").__class__()


def test_problems_go_to_stderr_before_the_app_starts(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv(KEYMAP_ENV, "chat.new=ctrl+t")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    started: list[TuichatApp] = []
    monkeypatch.setattr(TuichatApp, "run", lambda self: started.append(self) or 0)
    assert run_app(tmp_path / "x.db") == 0
    assert capsys.readouterr().err == (
        "tuichat: keymap: TUICHAT_KEYMAP: chat.new=ctrl+t: ctrl+t is already chat.stream (Stream on/off) "
        "on the chat screen; pick another key, or move chat.stream too\n"
    )
    assert started[0].keymap.bindings == {}


async def test_the_app_uses_the_file_says_what_is_wrong_and_the_palette_shows_the_real_keys(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tuichat").mkdir()
    (tmp_path / "tuichat" / "config.toml").write_text('[keymap]\n"model.pick" = "f11"\n', encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv(KEYMAP_ENV, "chat.new=ctrl+t")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        [toast] = [n for n in app._notifications if n.title == "Keymap"]
        assert "chat.new=ctrl+t: ctrl+t is already chat.stream" in toast.message and toast.severity == "warning"
        commands = {command.title: command.help for command in app.get_system_commands(screen)}
        assert commands["Model"] == "f11  (model.pick)" and commands["Stream on/off"] == "ctrl+t  (chat.stream)"
        assert commands["New chat"].startswith("ctrl+n  (")
        await pilot.press("f11")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        before = screen.new_chat_settings.stream
        await pilot.press("ctrl+t")  # still the stream toggle: the clashing entry was left out
        await until(pilot, lambda: screen.new_chat_settings.stream != before)
