"""The workshop's shared workflows, driven through both screens that use them.

pip is replaced by a fake (`fake_pip`) that streams pip-like lines and then makes the module
importable, so the whole install-and-retry loop runs in well under a second: asked first, pip's
output in the install dialog, the undeclared module offered and the load tried again, and Escape
stopping it. Also: an unexpected error in a workflow becomes a toast and the app runs on, and
the footer and the command palette offer only what applies.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot

from tests.ui import helpers
from tests.ui.helpers import answer_prompt, confirm, open_pipes, ready, screen_lines, select
from tuichat.runtime.loading import pip
from tuichat.runtime.transfer import EXAMPLES_SEEDED
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.workshop import workflows
from tuichat.ui.workshop.editor_screen import EditorScreen
from tuichat.ui.workshop.install_dialog import InstallFinished, InstallScreen
from tuichat.ui.workshop.messages import FunctionSaved, FunctionsChanged, SaveRefused

SIZE = (100, 30)
until = partial(helpers.until, timeout=20.0)


@dataclass
class FakePip:
    """Stands in for pip: each run streams a few lines, then `module` can be imported."""

    folder: Path
    module: str
    hang: bool = False  # wait (for Escape) instead of finishing
    runs: list[list[str]] = field(default_factory=list)

    @property
    def distribution(self) -> str:
        return self.module.replace("_", "-")

    def pipe(self, *, declared: bool) -> str:
        """A pipe that imports `module` (naming it in `requirements` if `declared`)."""
        needs = f"requirements: {self.distribution}\n" if declared else ""
        return (
            f'"""\ntitle: Needs it\n{needs}"""\nimport {self.module}\n\n\nclass Pipe:\n'
            f"    def pipe(self, body):\n        return {self.module}.VALUE\n"
        )

    async def run(self, command: list[str], on_line: Any) -> tuple[int, tuple[str, ...]]:
        self.runs.append(command)
        lines = [f"Collecting {self.distribution}", f"Installing collected packages: {self.distribution}"]
        for line in lines:
            on_line(line)
            await asyncio.sleep(0)
        if self.hang:
            await asyncio.sleep(3600)
        (self.folder / f"{self.module}.py").write_text("VALUE = 'from the fake package'\n", encoding="utf-8")
        importlib.invalidate_caches()
        done = f"Successfully installed {self.distribution}-1.0"
        on_line(done)
        return 0, (*lines, done)


@pytest.fixture
def fake_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePip]:
    folder = tmp_path / "site"
    folder.mkdir()
    fake = FakePip(folder, f"tuichat_fake_{uuid.uuid4().hex[:10]}")
    monkeypatch.syspath_prepend(str(folder))
    # Pipes load in the host process: it finds the "installed" module the way it finds site-packages.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("TUICHAT_OFFLINE", raising=False)
    monkeypatch.setattr(pip, "_run", fake.run)
    yield fake
    sys.modules.pop(fake.module, None)


def notes(app: TuichatApp) -> list[tuple[str, str]]:
    return [(n.severity, str(n.message)) for n in app._notifications]


async def editor_on(pilot: Pilot[Any], source: str) -> EditorScreen:
    """The editor on a stored 'greeter' whose text is then replaced by `source` (unsaved)."""
    app = pilot.app
    assert isinstance(app, TuichatApp)
    await ready(pilot)
    library = (await app.runtime()).library
    await library.add('class Pipe:\n    def pipe(self, body):\n        return "hello"\n', function_id="greeter")
    screen = EditorScreen("greeter")
    await app.push_screen(screen)
    await until(pilot, lambda: screen.row is not None and not screen.editor.read_only)
    screen.editor.text = source
    return screen


async def install_finished(pilot: Pilot[Any]) -> InstallScreen[Any]:
    await until(pilot, lambda: isinstance(pilot.app.screen, InstallScreen) and pilot.app.screen.finished)
    dialog = pilot.app.screen
    assert isinstance(dialog, InstallScreen)
    return dialog


# -- install and retry, from both screens ------------------------------------------------------
async def test_the_editor_offers_an_undeclared_module_installs_it_and_saves_again(db_path: Path, fake_pip: FakePip) -> None:
    recorded: list[Message] = []
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE, message_hook=recorded.append) as pilot:
        screen = await editor_on(pilot, fake_pip.pipe(declared=False))
        await pilot.press("f2")
        assert f"imports '{fake_pip.module}'" in await confirm(pilot, True)
        dialog = await install_finished(pilot)
        assert dialog.packages == [fake_pip.distribution] and dialog.outcome is not None and dialog.outcome.ok
        assert dialog.lines[-1].startswith("Successfully installed")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and not screen.busy)
        assert not screen.error_shown and not screen.modified
        assert any(isinstance(m, InstallFinished) for m in recorded)
        assert any(isinstance(m, FunctionSaved) and m.saved.changed for m in recorded)
        assert "(installed " in next(text for _, text in notes(app) if text.startswith("Saved and reloaded"))
        assert (await app.store.functions.get("greeter")).content == fake_pip.pipe(declared=False)  # type: ignore[union-attr]


async def test_the_pipes_screen_installs_a_declared_requirement_through_the_same_dialog(
    db_path: Path, tmp_path: Path, fake_pip: FakePip
) -> None:
    path = tmp_path / "needy.py"
    path.write_text(fake_pip.pipe(declared=True), encoding="utf-8")
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        await pilot.press("i")
        await answer_prompt(pilot, str(path))
        assert fake_pip.distribution in await confirm(pilot, True)
        dialog = await install_finished(pilot)
        assert "is loaded and on" in str(dialog.query_one("#install-result").render())
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and not screen.busy)
        assert screen.current is not None and screen.current.id == "needy" and screen.current.is_active
        assert [run for run in fake_pip.runs if "--dry-run" not in run] == fake_pip.runs[-1:]  # resolved first, installed once


async def test_declining_the_undeclared_module_refuses_the_save_and_says_why(db_path: Path, fake_pip: FakePip) -> None:
    recorded: list[Message] = []
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE, message_hook=recorded.append) as pilot:
        screen = await editor_on(pilot, fake_pip.pipe(declared=False))
        await pilot.press("f2")
        await confirm(pilot, False)
        await until(pilot, lambda: not screen.busy and screen.error_shown)
        assert "Not saved at line 4" in screen.error_text and fake_pip.module in screen.error_text
        assert screen.modified and fake_pip.runs == []
        assert any(isinstance(m, SaveRefused) for m in recorded)


async def test_escape_in_the_install_dialog_stops_the_save(db_path: Path, fake_pip: FakePip) -> None:
    fake_pip.hang = True
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await editor_on(pilot, fake_pip.pipe(declared=True))
        await pilot.press("f2")
        await confirm(pilot, True)
        await until(pilot, lambda: isinstance(app.screen, InstallScreen) and bool(fake_pip.runs))
        await pilot.press("escape")  # stops pip
        dialog = await install_finished(pilot)
        assert dialog.outcome is not None and dialog.outcome.cancelled
        await pilot.press("escape")  # closes the dialog
        await until(pilot, lambda: app.screen is screen and not screen.busy)
        assert ("warning", "Install cancelled: nothing was changed.") in notes(app)
        assert screen.modified and not screen.error_shown
        stored = await app.store.functions.get("greeter")
        assert stored is not None and "hello" in stored.content


# -- one handler for what workers raise ----------------------------------------------------------
async def test_an_unexpected_error_in_a_workflow_is_a_toast_and_the_app_runs_on(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(screen: Any) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(workflows, "export_all", broken)
    recorded: list[Message] = []
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE, message_hook=recorded.append) as pilot:
        screen = await open_pipes(pilot)
        await pilot.press("x")
        await until(pilot, lambda: any(severity == "error" for severity, _ in notes(app)))
        severity, text = next(n for n in notes(app) if n[0] == "error")
        assert text.startswith("Export failed: an unexpected error (ZeroDivisionError: division by zero)")
        assert "the app keeps running" in text
        assert "ZeroDivisionError" in str(screen.query_one("#detail-problem").render())
        # Still here, and the next action works.
        await until(pilot, lambda: not screen.busy)
        await pilot.press("r")
        await until(pilot, lambda: any(isinstance(m, FunctionsChanged) and m.note == "Refreshed." for m in recorded))
        assert app.is_running and app.screen is screen
        await until(pilot, lambda: not screen.busy)
        assert str(screen.query_one("#detail-problem").render()) == ""  # the next action clears it


async def test_an_unexpected_error_while_saving_keeps_the_text_and_shows_the_traceback(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await editor_on(pilot, 'class Pipe:\n    def pipe(self, body):\n        return "bye"\n')
        library = (await app.runtime()).library

        async def bug(*args: Any, **kwargs: Any) -> None:
            raise KeyError("oops")

        monkeypatch.setattr(library, "save_source", bug)
        await pilot.press("f2")
        await until(pilot, lambda: screen.saves_finished == 1)
        assert screen.error_shown and "unexpected error (KeyError" in screen.error_text
        await pilot.press("f8")
        assert "KeyError" in str(screen.query_one("#error-traceback").render())
        assert screen.modified and "bye" in screen.editor.text
        assert any(s == "error" and "Saving failed" in t for s, t in notes(app))


# -- only what applies ---------------------------------------------------------------------------
def commands(app: TuichatApp) -> set[str]:
    return {command.title for command in app.get_system_commands(app.screen)}


def footer(app: TuichatApp) -> str:
    return screen_lines(app)[-1]


async def test_without_functions_nothing_offers_to_work_on_one(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        await store.settings.set(EXAMPLES_SEEDED, True)  # an empty store stays empty
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        assert screen.current is None
        offered = commands(app)
        assert {"New", "Import", "Import JSON", "Export", "Refresh", "Back"} <= offered
        assert not offered & {"Edit", "On/off", "Delete", "Link", "Valves", "User valves", "Duplicate"}
        await pilot.pause()
        assert "Edit" not in footer(app) and "Delete" not in footer(app) and "New" in footer(app)
        assert "No functions yet" in str(screen.query_one("#detail-title").render())
        await pilot.press("e", "space", "delete")  # nothing to act on: nothing happens
        assert app.screen is screen and not screen.busy


async def test_the_pipes_screen_offers_function_actions_once_one_is_highlighted(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        select(screen, "echo")
        await pilot.pause()
        assert {"Edit", "On/off", "Delete", "Link", "Duplicate"} <= commands(app)
        assert "Edit" in footer(app)


async def test_the_editor_offers_the_traceback_and_next_match_only_when_they_apply(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await editor_on(pilot, 'class Pipe:\n    def __init__(self):\n        raise ValueError("no")\n')
        assert {"Save", "History", "Find"} <= commands(app)
        assert not commands(app) & {"Traceback", "Next match"}
        await pilot.press("f2")
        await until(pilot, lambda: screen.saves_finished == 1)
        assert "Traceback" in commands(app)
        await pilot.press("ctrl+f")
        assert "Next match" in commands(app)
        await pilot.press("escape")
        assert "Next match" not in commands(app)
