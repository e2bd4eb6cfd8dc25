"""The pipes screen (F7), driven with Pilot against a real SQLite file: listing, templates,
importing .py files and Open WebUI exports, exporting, duplicating, deleting, switching on and
off, and installing a missing requirement from a local wheel while pip's output is shown."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, RichLog, Static

from tests.ui import helpers
from tests.ui.helpers import (
    ScreenHost,
    answer_prompt,
    cell,
    chat_screen,
    confirm,
    open_pipes,
    opens,
    ready,
    select,
)
from tests.wheels import build_wheel, uninstall
from tuichat.runtime.library import EXAMPLE_IDS
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.screens.prompts import TextPromptScreen
from tuichat.ui.workshop.install_dialog import InstallScreen, pip_stage
from tuichat.ui.workshop.new_function import NewFunctionScreen
from tuichat.ui.workshop.pipes_screen import PipesScreen

SIZE = (100, 30)

GOOD = '''"""
title: Imported Pipe
author: tester
version: 1.2.3
description: Says hello from a file.
"""

class Pipe:
    def pipe(self, body):
        return "hello from a file"
'''

BROKEN = '''class Pipe:
    def pipe(self, body)
        return "never"
'''


def needs(package: str) -> str:
    return (
        f'"""\ntitle: Needs {package}\nrequirements: {package}\n"""\n'
        f"import {package}\n\nclass Pipe:\n    def pipe(self, body):\n        return f'value={{{package}.VALUE}}'\n"
    )


# Loading functions and installing packages can take longer than the chat flows: wait up to 20 s.
until = partial(helpers.until, timeout=20.0)


async def idle(pilot: Pilot[Any], screen: PipesScreen) -> None:
    """The last action (its dialogs, the library call and the refresh) has finished."""
    await until(pilot, lambda: not screen.busy and pilot.app.screen is screen)
    await pilot.pause()


def ids(screen: PipesScreen) -> list[str]:
    return [row.id for row in screen.catalog.rows]


def table_ids(screen: PipesScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(table.coordinate_to_cell_key(Coordinate(index, 0)).row_key.value) for index in range(table.row_count)]


def notes(app: TuichatApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def detail(screen: PipesScreen) -> str:
    return "\n".join(str(w.render()) for w in screen.query("#pipe-detail Static") if w.display)


def problem(screen: PipesScreen) -> str:
    """The last action's error, as the line above the details shows it."""
    return str(screen.query_one("#detail-problem", Static).render())


async def import_file(pilot: Pilot[Any], path: Path) -> None:
    """Press i and give the path of the .py file to import."""
    await pilot.press("i")
    await answer_prompt(pilot, str(path))


@asynccontextmanager
async def importing(db_path: Path, path: Path) -> AsyncIterator[tuple[TuichatApp, Pilot[Any], PipesScreen]]:
    """The app on the pipes screen, importing the file `path` (its prompt answered)."""
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        await import_file(pilot, path)
        yield app, pilot, screen


def needy(folder: Path, package: str, name: str = "needy", *, declared: bool = True) -> Path:
    """`name`.py: a pipe that imports `package`, which its requirements line names if `declared`."""
    source = needs(package) if declared else needs(package).replace(f"requirements: {package}\n", "")
    path = folder / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return path


@pytest.fixture
def package(package_name: str) -> Iterator[str]:
    """A fresh package name for a test that installs it; uninstalled again afterwards."""
    yield package_name
    uninstall(package_name)


async def install_done(pilot: Pilot[Any]) -> InstallScreen:
    """The install dialog that opens, once pip has finished (its result stays until a key)."""
    await until(pilot, lambda: isinstance(pilot.app.screen, InstallScreen))
    install = pilot.app.screen
    assert isinstance(install, InstallScreen)
    await until(pilot, lambda: install.finished, timeout=90)
    return install


async def test_f7_lists_the_examples_with_their_models_and_escape_goes_back(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        assert ids(screen) == list(EXAMPLE_IDS) == table_ids(screen)
        assert [m["id"] for m in screen.catalog.models["manifold"]] == ["manifold.reverse", "manifold.shout", "manifold.count"]
        assert [m["id"] for m in screen.catalog.models["echo"]] == ["echo"]
        table = screen.query_one(DataTable)
        assert table.cursor_type == "row"
        first = [str(value) for value in table.get_row_at(0)]
        assert first[:6] == ["● on", "echo", "Echo", "pipe", "echo", "ok"]
        assert cell(screen, "manifold", 4).startswith("3: .reverse")
        assert "Version" in [str(c.label) for c in table.columns.values()]  # wide enough here
        assert "Streams your last message back" in detail(screen) and "v0.1.0" in detail(screen)
        await pilot.press("down")
        assert "manifold.shout (Demo/Shout)" in detail(screen)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_the_binding_is_in_the_command_palette_and_fits_80x24(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        assert "Pipes" in commands and "pipes.open" in commands["Pipes"].help
        commands["Pipes"].callback()
        await until(pilot, lambda: isinstance(app.screen, PipesScreen) and app.screen.loaded)
        screen = app.screen
        assert isinstance(screen, PipesScreen)
        table = screen.query_one(DataTable)
        assert table.virtual_size.width <= table.size.width, "the table must not scroll sideways at 80 columns"
        assert [str(c.label) for c in table.columns.values()] == ["On", "ID", "Name", "Type", "Models", "Status"]
        names = {command.title for command in app.get_system_commands(screen)}  # type: ignore[arg-type]
        assert {"Import JSON", "Export", "Duplicate", "User valves", "Link", "Back"} <= names
        assert "Pipes" not in names  # already open
        await pilot.press("f7")  # does nothing here
        await pilot.pause()
        assert app.screen is screen and len(app.screen_stack) == 3


async def test_new_from_a_template_loads_and_reaches_the_model_picker(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        dialog = await opens(pilot, "n", NewFunctionScreen)
        await pilot.press(*"echo", "enter")  # taken: the dialog says so and stays
        await until(pilot, lambda: "taken" in str(dialog.query_one("#new-error", Static).render()))
        assert app.screen is dialog
        dialog.query_one(Input).value = "My_Multi"
        await pilot.press("tab", "down")  # the manifold template
        assert "(•) manifold" in str(dialog.query_one("#new-template", OptionList).get_option_at_index(1).prompt)
        await pilot.press("enter")  # creates it
        await idle(pilot, screen)
        assert ids(screen)[-1] == "my_multi"
        row = screen.catalog.row("my_multi")
        assert row is not None and row.is_active and row.load_error is None
        assert [m["id"] for m in screen.catalog.models["my_multi"]] == ["my_multi.small", "my_multi.large"]
        assert screen.current is not None and screen.current.id == "my_multi"
        chat = chat_screen(app)
        await until(pilot, lambda: chat.listing is not None and "my_multi.small" in chat.listing.by_id())
        # The plain pipe template, with Enter from the id field.
        await opens(pilot, "n", NewFunctionScreen)
        await pilot.press(*"solo", "enter")
        await idle(pilot, screen)
        assert [m["id"] for m in screen.catalog.models["solo"]] == ["solo"]
        await until(pilot, lambda: chat.listing is not None and "solo" in chat.listing.by_id())


async def test_import_a_py_file_and_a_broken_one(db_path: Path, tmp_path: Path) -> None:
    good = tmp_path / "hello-pipe.py"
    good.write_text(GOOD, encoding="utf-8")
    broken = tmp_path / "broken.py"
    broken.write_text(BROKEN, encoding="utf-8")
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        await import_file(pilot, good)
        await idle(pilot, screen)
        row = screen.catalog.row("hello_pipe")
        assert row is not None and row.is_active and row.name == "Imported Pipe"
        assert screen.current is not None and screen.current.id == "hello_pipe"
        text = detail(screen)
        assert "v1.2.3" in text and "by tester" in text and "Says hello from a file." in text
        assert any("Imported pipe 'hello_pipe'" in n for n in notes(app))

        await import_file(pilot, broken)
        await idle(pilot, screen)
        assert "broken" not in ids(screen)
        shown = problem(screen)
        assert "SyntaxError" in shown and "line 2" in shown and "Nothing was stored" in shown
        assert "SyntaxError" in detail(screen)
        assert any("SyntaxError" in n for n in notes(app))
    async with await Store.open(db_path) as store:
        assert await store.functions.get("broken") is None


async def test_bad_paths_and_files_are_explained_not_fatal(db_path: Path, tmp_path: Path) -> None:
    latin = tmp_path / "latin.py"
    latin.write_bytes("# caf\xe9\nclass Pipe: pass\n".encode("latin-1"))
    not_json = tmp_path / "export.json"
    not_json.write_text("{not json", encoding="utf-8")
    an_object = tmp_path / "object.json"
    an_object.write_text('{"id": "x"}', encoding="utf-8")
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        for key, path, expected in (
            ("i", "~/surely/not/here.py", "does not exist"),
            ("i", str(tmp_path), "is a folder"),
            ("i", str(latin), "not UTF-8"),
            ("I", str(not_json), "not valid JSON"),
            ("I", str(an_object), "not an Open WebUI functions export"),
        ):
            await pilot.press(key)
            await answer_prompt(pilot, path)
            await idle(pilot, screen)
            assert expected in problem(screen), (path, problem(screen))
        assert ids(screen) == list(EXAMPLE_IDS)
        # A duplicate into a taken id is refused with the reason.
        await pilot.press("d")
        await answer_prompt(pilot, "manifold")
        await idle(pilot, screen)
        assert "already stored" in problem(screen)


async def test_export_and_import_open_webui_json_round_trip(db_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "functions.json"
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        prompt = await opens(pilot, "x", TextPromptScreen)
        assert prompt.query_one(Input).value.startswith("./functions-export-")  # the default
        await answer_prompt(pilot, str(target))
        await idle(pilot, screen)
        exported = json.loads(target.read_text(encoding="utf-8"))
        assert [f["id"] for f in exported] == list(EXAMPLE_IDS)
        assert set(exported[0]) >= {"id", "name", "type", "content", "meta", "is_active"}
        before = {row.id: row.content for row in screen.catalog.rows}

        # Delete two, then import the export: those two come back, the others are skipped.
        for function_id in ("echo", "manifold"):
            select(screen, function_id)
            await pilot.press("delete")
            await confirm(pilot, True)
            await idle(pilot, screen)
        assert ids(screen) == ["events", "ask", "markdown", "local"]
        await pilot.press("I")
        await answer_prompt(pilot, str(target))
        question = await confirm(pilot, False)  # replace the four already stored? no
        assert "events, ask, markdown, local" in question
        await idle(pilot, screen)
        assert sorted(ids(screen)) == sorted(EXAMPLE_IDS)
        assert {row.id: row.content for row in screen.catalog.rows} == before
        assert screen.catalog.models["manifold"][0]["id"] == "manifold.reverse"
        assert any("Imported 2 functions" in n and "skipped" in n for n in notes(app))

        # Export again: the same functions, the same code.
        target.unlink()
        await pilot.press("x")
        await answer_prompt(pilot, str(target))
        await idle(pilot, screen)
        again = json.loads(target.read_text(encoding="utf-8"))
        assert {f["id"]: f["content"] for f in again} == {f["id"]: f["content"] for f in exported}
        # Exporting over an existing file asks first; No leaves it alone.
        await pilot.press("x")
        await answer_prompt(pilot, str(target))
        assert "already exists" in await confirm(pilot, False)
        await idle(pilot, screen)


async def test_duplicate_delete_with_confirm_and_toggle(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        chat = chat_screen(app)
        select(screen, "echo")
        prompt = await opens(pilot, "d", TextPromptScreen)
        assert prompt.query_one(Input).value == "echo_clone"
        await pilot.press("enter")
        await idle(pilot, screen)
        copy = screen.catalog.row("echo_clone")
        assert copy is not None and copy.name == "Echo (Clone)" and copy.is_active
        assert screen.current is not None and screen.current.id == "echo_clone"
        await until(pilot, lambda: chat.listing is not None and "echo_clone" in chat.listing.by_id())

        # Delete: No keeps it, Yes removes it.
        await pilot.press("delete")
        assert "echo_clone" in await confirm(pilot, False)
        await idle(pilot, screen)
        assert "echo_clone" in ids(screen)
        await pilot.press("f8")
        await confirm(pilot, True)
        await idle(pilot, screen)
        assert "echo_clone" not in ids(screen)
        assert screen.current is not None and screen.current.id == "local"  # the row that was above it, the last
        await until(pilot, lambda: chat.listing is not None and "echo_clone" not in chat.listing.by_id())

        # Switch off and on again with space (and t).
        select(screen, "events")
        await pilot.press("space")
        await idle(pilot, screen)
        row = screen.catalog.row("events")
        assert row is not None and not row.is_active
        assert cell(screen, "events", 0) == "○ off"
        assert "events" not in screen.catalog.models
        await until(pilot, lambda: chat.listing is not None and "events" not in chat.listing.by_id())
        await pilot.press("t")
        await idle(pilot, screen)
        row = screen.catalog.row("events")
        assert row is not None and row.is_active and [m["id"] for m in screen.catalog.models["events"]] == ["events"]
        await until(pilot, lambda: chat.listing is not None and "events" in chat.listing.by_id())


async def test_a_missing_requirement_is_installed_with_pip_shown(
    db_path: Path, tmp_path: Path, local_index: Path, package: str
) -> None:
    build_wheel(local_index, package)
    async with importing(db_path, needy(tmp_path, package)) as (app, pilot, screen):
        question = await confirm(pilot, True)
        assert package in question
        install = await install_done(pilot)
        assert install.packages == [package]
        assert install.outcome is not None and install.outcome.ok
        assert any(line.startswith("Successfully installed") for line in install.lines)
        assert install.stage == 3
        assert install.query_one(RichLog).lines, "pip's output is shown"
        assert "is loaded and on" in str(install.query_one("#install-result", Static).render())
        await pilot.press("enter")  # the result stays until a key
        await idle(pilot, screen)
        row = screen.catalog.row("needy")
        assert row is not None and row.is_active and row.load_error is None
        assert [m["id"] for m in screen.catalog.models["needy"]] == ["needy"]
        invocation = await app.services.host.invoke(  # type: ignore[union-attr]
            "needy", {"messages": [{"role": "user", "content": "hi"}], "stream": False}
        )
        from tests.tracing import collect
        from tuichat.runtime.reply.builder import reply_from_steps

        assert reply_from_steps(await collect(invocation)).content == "value=42"


async def test_declining_the_install_stores_it_off_then_space_installs(
    db_path: Path, tmp_path: Path, local_index: Path, package: str
) -> None:
    async with importing(db_path, needy(tmp_path, package)) as (_app, pilot, screen):
        await confirm(pilot, False)
        await idle(pilot, screen)
        row = screen.catalog.row("needy")
        assert row is not None and not row.is_active
        assert row.load_error is not None and "requirements not installed" in row.load_error
        assert cell(screen, "needy", 5) == "needs pip"
        assert "requirements not installed" in detail(screen) and f"Needs:   {package}" in detail(screen)
        assert "needy" not in screen.catalog.models

        # Switching it on asks again; declining keeps it off.
        select(screen, "needy")
        await pilot.press("space")
        await confirm(pilot, False)
        await idle(pilot, screen)
        assert not screen.catalog.row("needy").is_active  # type: ignore[union-attr]

        # With the package on the index now, yes installs it and switches it on.
        build_wheel(local_index, package)
        await pilot.press("space")
        await confirm(pilot, True)
        install = await install_done(pilot)
        assert install.outcome is not None and install.outcome.ok
        await pilot.press("escape")
        await idle(pilot, screen)
        row = screen.catalog.row("needy")
        assert row is not None and row.is_active and row.load_error is None


async def test_a_failed_install_keeps_pips_error_on_screen(
    db_path: Path, tmp_path: Path, local_index: Path, package_name: str
) -> None:
    # No wheel on the index: pip cannot find it.
    async with importing(db_path, needy(tmp_path, package_name)) as (app, pilot, screen):
        await confirm(pilot, True)
        install = await install_done(pilot)
        assert install.outcome is not None and not install.outcome.ok
        result = str(install.query_one("#install-result", Static).render())
        assert result.startswith("✗") and "switched off" in result
        await pilot.pause(0.2)
        assert app.screen is install, "the error stays until a key is pressed"
        await pilot.press("enter")
        await idle(pilot, screen)
        row = screen.catalog.row("needy")
        assert row is not None and not row.is_active and "No matching distribution" in (row.load_error or "")


async def test_an_undeclared_missing_module_is_offered_for_install(
    db_path: Path, tmp_path: Path, local_index: Path, package: str
) -> None:
    build_wheel(local_index, package)
    async with importing(db_path, needy(tmp_path, package, "sneaky", declared=False)) as (_app, pilot, screen):
        question = await confirm(pilot, True)
        assert f"imports '{package}'" in question
        install = await install_done(pilot)
        assert install.outcome is not None and install.outcome.ok, install.lines
        await pilot.press("enter")
        await idle(pilot, screen)
        row = screen.catalog.row("sneaky")
        assert row is not None and row.is_active


async def test_escape_cancels_a_running_install(db_path: Path) -> None:
    started = asyncio.Event()

    async def job(on_line: Callable[[str], None]) -> None:
        on_line("Collecting slowpkg")
        started.set()
        await asyncio.sleep(3600)

    app = ScreenHost(InstallScreen("Installing", ["slowpkg"], job))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, started.is_set)
        install = app.screen
        assert isinstance(install, InstallScreen) and install.stage == 0
        await pilot.press("escape")
        await until(pilot, lambda: install.finished)
        assert install.outcome is not None and install.outcome.cancelled
        await pilot.press("escape")
        await until(pilot, lambda: app.results != [])
        [outcome] = app.results
        assert outcome is not None and outcome.cancelled


def test_pip_stages() -> None:
    assert pip_stage("Collecting httpx>=0.27") == 0
    assert pip_stage("  Downloading httpx-0.27.0-py3-none-any.whl (75 kB)") == 1
    assert pip_stage("Installing collected packages: httpx") == 2
    assert pip_stage("Successfully installed httpx-0.27.0") == 3
    assert pip_stage("Requirement already satisfied: idna") is None


@pytest.fixture
def _no_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_snapshot_pipes_screen_80x24(snap_compare: Any, db_path: Path, _no_colour_env: None) -> None:
    async def open_it(pilot: Pilot[Any]) -> None:
        screen = await open_pipes(pilot)
        await pilot.press("down")  # the manifold: several models in the detail panel
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.current is not None and screen.current.id == "manifold"
        assert not pilot.app._notifications

    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=open_it)


async def test_edit_and_valves_open_their_screens(db_path: Path) -> None:
    from tuichat.ui.screens.valves_form import ValvesScreen
    from tuichat.ui.workshop.editor_screen import EditorScreen

    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        select(screen, "echo")
        for key in ("enter", "e"):
            editor = await opens(pilot, key, EditorScreen)
            assert editor.function_id == "echo"
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen)

        valves = await opens(pilot, "v", ValvesScreen)
        assert valves.user_id is None and valves.function_id == "echo"
        await pilot.press("escape")
        await idle(pilot, screen)
        valves = await opens(pilot, "u", ValvesScreen)
        assert valves.user_id is not None
        async with await Store.open(db_path) as store:
            assert valves.user_id == (await store.users.local())["id"]
        await pilot.press("escape")
        await idle(pilot, screen)
