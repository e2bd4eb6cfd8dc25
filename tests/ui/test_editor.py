"""The pipe editor and its history, driven with Pilot against the real app and a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.ui.helpers import chat_screen, confirm, ready, until
from tuichat.store import FunctionVersion
from tuichat.ui.app import TuichatApp
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.workshop.editor_screen import EditorScreen
from tuichat.ui.workshop.history_screen import HistoryScreen
from tuichat.ui.workshop.unsaved_changes import UnsavedChangesScreen

SIZE = (80, 24)

# Line 8 (index 7) sets the greeting the pipe answers with.
GREETER = '''"""
title: Greeter
"""


class Pipe:
    def __init__(self):
        self.greeting = "hello"

    def pipe(self, body):
        return self.greeting
'''
GREETING_LINE = 7

# Raises in __init__, on line 9 (index 8).
FAILS_IN_INIT = '''"""
title: Greeter
"""


class Pipe:
    def __init__(self):
        self.greeting = "hello"
        raise ValueError("no greeting today")

    def pipe(self, body):
        return self.greeting
'''


async def open_editor(pilot: Pilot[Any], function_id: str = "greeter", source: str | None = GREETER) -> EditorScreen:
    """Start the app's runtime, add `source` as `function_id` (unless None), open the editor on it."""
    app = pilot.app
    assert isinstance(app, TuichatApp)
    await until(pilot, lambda: isinstance(app.screen, ChatScreen))
    await app.runtime()
    assert app.services is not None
    if source is not None:
        await app.services.library.add(source, function_id=function_id)
    return await show_editor(pilot, function_id)


async def show_editor(pilot: Pilot[Any], function_id: str) -> EditorScreen:
    """Push the editor on `function_id` and wait until its code is loaded and editable."""
    screen = EditorScreen(function_id)
    await pilot.app.push_screen(screen)
    await until(pilot, lambda: screen.row is not None and not screen.editor.read_only)
    return screen


async def saved(pilot: Pilot[Any], screen: EditorScreen) -> None:
    """Press F2 and wait for the save to end (stored, or refused)."""
    before = screen.saves_finished
    await pilot.press("f2")
    await until(pilot, lambda: screen.saves_finished > before)


async def answer(app: TuichatApp, model: str) -> str:
    """What a chat with `model` gets back now, through the same host the chat screen uses."""
    from tests.tracing import collect
    from tuichat.runtime.host import make_body
    from tuichat.runtime.reply.builder import reply_from_steps

    assert app.services is not None
    invocation = await app.services.host.invoke(model, make_body(model, [{"role": "user", "content": "hi"}], stream=False))
    return reply_from_steps(await collect(invocation)).content


def line_end(editor: TextArea, row: int) -> tuple[int, int]:
    return row, len(editor.document.get_line(row))


def messages(app: TuichatApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def versions(app: TuichatApp, function_id: str) -> list[FunctionVersion]:
    assert app.store is not None
    return await app.store.functions.versions(function_id)


async def test_a_syntax_error_is_shown_at_its_line_and_nothing_typed_is_lost(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        assert app.services is not None
        published: list[str] = []
        app.functions_changed.subscribe(screen, published.append)
        chat = chat_screen(app)
        editor = screen.editor
        assert editor.text == GREETER and not screen.modified

        # Replace "hello" with a line that does not parse, by typing.
        editor.move_cursor(line_end(editor, GREETING_LINE))
        await pilot.press(*["backspace"] * len('"hello"'), *'"howdy" +')
        typed = editor.text
        assert typed.splitlines()[GREETING_LINE] == '        self.greeting = "howdy" +'
        assert screen.modified and "modified" in screen.sub_title
        editor.move_cursor((0, 0))
        await saved(pilot, screen)

        assert screen.error_shown and "Not saved at line 8" in screen.error_text
        assert "SyntaxError" in screen.error_text and "line 8" in screen.error_text
        assert editor.cursor_location[0] == GREETING_LINE
        assert editor.text == typed and screen.modified  # exactly as typed, still unsaved
        assert (await app.services.library.get("greeter")).content == GREETER  # the good source keeps serving
        refused = (await versions(app, "greeter"))[0]
        assert refused.content == typed and refused.error is not None and "SyntaxError" in refused.error
        assert await answer(app, "greeter") == "hello"
        assert published == []

        # Fix it: the trailing " +" goes, F2 stores and loads it, and the next chat uses it.
        editor.move_cursor(line_end(editor, GREETING_LINE))
        await pilot.press("backspace", "backspace")
        listing_before = chat.listing
        await saved(pilot, screen)
        assert not screen.error_shown and not screen.modified and "modified" not in screen.sub_title
        assert (await app.services.library.get("greeter")).content == editor.text
        assert (await versions(app, "greeter"))[0].error is None
        assert "Saved and reloaded 'greeter'" in messages(app)
        assert await answer(app, "greeter") == "howdy"
        await until(pilot, lambda: "greeter" in published)
        assert set(published) == {"greeter"}  # only the saved function was published (a reload may publish twice)
        await until(pilot, lambda: chat.listing is not listing_before)  # the model picker's list was rebuilt


async def test_a_load_error_in_init_moves_the_cursor_to_its_line(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        editor = screen.editor
        editor.text = FAILS_IN_INIT
        assert editor.cursor_location == (0, 0)
        await saved(pilot, screen)
        assert screen.error_shown and "no greeting today" in screen.error_text
        assert "Not saved at line 9" in screen.error_text
        assert editor.cursor_location[0] == 8
        assert editor.text == FAILS_IN_INIT and screen.modified
        # The traceback is there for the asking (F8), and Escape goes back to the text.
        await pilot.press("f8")
        detail = screen.query_one("#error-traceback").render()
        assert 'line 9, in __init__' in str(getattr(detail, "plain", detail))
        await pilot.press("escape")
        assert screen.focused is editor and app.screen is screen


async def test_history_loads_or_restores_a_version_with_its_diff(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        assert app.services is not None
        editor = screen.editor
        editor.text = GREETER.replace('"hello"', '"howdy"')
        await saved(pilot, screen)
        second = editor.text
        assert (await app.services.library.get("greeter")).content == second

        # Load the first version into the editor: unsaved, nothing stored.
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.versions is not None)
        history = app.screen
        assert isinstance(history, HistoryScreen)
        assert [v.content for v in history.versions or []] == [second, GREETER]
        assert history.current_id == history.versions[0].id  # type: ignore[index]
        await pilot.press("down")
        await until(pilot, lambda: "-        self.greeting = \"hello\"" in history.diff_text)
        assert '+        self.greeting = "howdy"' in history.diff_text
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen)
        assert editor.text == GREETER and screen.modified
        assert (await app.services.library.get("greeter")).content == second
        await pilot.press("ctrl+z")  # the load is one undoable edit
        assert editor.text == second and not screen.modified

        # Restore and save it in one go.
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.versions is not None)
        await pilot.press("down", "ctrl+r")
        await until(pilot, lambda: app.screen is screen and not screen.busy and not screen.modified)
        assert editor.text == GREETER
        assert (await app.services.library.get("greeter")).content == GREETER
        newest = (await versions(app, "greeter"))[0]
        assert (newest.origin, newest.content) == ("restored", GREETER)
        assert await answer(app, "greeter") == "hello"


async def test_history_marks_refused_versions(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        screen.editor.text = GREETER.replace('"hello"', '"hello" +')
        await saved(pilot, screen)
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.versions is not None)
        history = app.screen
        assert isinstance(history, HistoryScreen)
        labels = [history.query_one("#versions").get_option_at_index(i).prompt for i in range(2)]  # type: ignore[attr-defined]
        assert "refused: function 'greeter' failed to load: SyntaxError" in str(labels[0])
        assert "current" in str(labels[1])
        assert history.diff_text == f"Version #{history.versions[0].number} is the same as the editor's text."  # type: ignore[index]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        assert screen.modified  # Escape changed nothing

        # Restoring a refused version fails like its save did: shown, pointed at, nothing lost.
        refused = screen.editor.text
        screen.editor.text = GREETER
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.versions is not None)
        before = screen.saves_finished
        await pilot.press("ctrl+r")  # the refused version is the newest, highlighted first
        await until(pilot, lambda: screen.saves_finished > before)
        assert screen.error_shown and "line 8" in screen.error_text
        assert screen.editor.text == refused and screen.editor.cursor_location[0] == GREETING_LINE
        assert app.services is not None and (await app.services.library.get("greeter")).content == GREETER


async def test_closing_with_unsaved_changes_asks_first(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        await pilot.press("x")
        assert screen.modified
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, UnsavedChangesScreen))
        await pilot.press("escape")  # cancel: keep editing
        await until(pilot, lambda: app.screen is screen)
        assert screen.editor.text.startswith("x") and screen.modified
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, UnsavedChangesScreen))
        await pilot.press("d")  # discard
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.services is not None
        assert (await app.services.library.get("greeter")).content == GREETER


async def test_closing_can_save_first_and_an_unmodified_editor_just_closes(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        screen.editor.move_cursor(screen.editor.document.end)
        await pilot.press("#", "space", "x")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, UnsavedChangesScreen))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert app.services is not None
        assert (await app.services.library.get("greeter")).content == GREETER + "# x"
        await show_editor(pilot, "greeter")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_find_selects_the_next_match_and_wraps(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        editor = screen.editor
        await pilot.press("ctrl+f")
        field = screen.query_one("#find-input", Input)
        assert screen.focused is field
        await pilot.press(*"greeting")
        assert editor.selection == ((7, 13), (7, 21))  # found while typing: `self.greeting = ...`
        assert editor.selected_text == "greeting"
        await pilot.press("enter")
        assert editor.selection == ((10, 20), (10, 28))  # `return self.greeting`
        assert str(screen.query_one("#find-status").render()) == "2/2"
        await pilot.press("enter")  # wraps to the top
        assert editor.selection == ((7, 13), (7, 21))
        assert "wrapped" in str(screen.query_one("#find-status").render())
        field.value = "nowhere to be found"
        await pilot.press("enter")
        assert str(screen.query_one("#find-status").render()) == "no match"
        assert editor.selection == ((7, 13), (7, 21))  # a miss moves nothing
        await pilot.press("escape")  # closes the find bar, not the editor
        assert app.screen is screen and screen.focused is editor
        assert not screen.query_one("FindBar").display


async def linked(app: TuichatApp, path: Path) -> Path:
    """Write GREETER to `path`, link it to "greeter" and start watching it."""
    assert app.services is not None and app.watcher is not None
    path.write_text(GREETER, encoding="utf-8")
    await app.services.library.link("greeter", str(path))
    await app.watcher.refresh()
    return path


async def test_a_watched_file_reloads_an_unmodified_editor(db_path: Path, tmp_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        path = await linked(app, tmp_path / "greeter.py")
        changed = GREETER.replace('"hello"', '"from disk"')
        path.write_text(changed, encoding="utf-8")
        await until(pilot, lambda: screen.editor.text == changed)
        assert not screen.modified
        assert await answer(app, "greeter") == "from disk"

        # With unsaved edits the editor keeps them and says what happened.
        await pilot.press("x")
        typed = screen.editor.text
        path.write_text(GREETER.replace('"hello"', '"from disk again"'), encoding="utf-8")
        await until(pilot, lambda: any("Your unsaved edits are kept" in m for m in messages(app)))
        assert screen.editor.text == typed and screen.modified


async def test_a_save_in_the_editor_writes_the_linked_file(db_path: Path, tmp_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        path = await linked(app, tmp_path / "greeter.py")
        screen.editor.text = GREETER.replace('"hello"', '"from the editor"')
        await saved(pilot, screen)
        assert path.read_text(encoding="utf-8") == screen.editor.text
        assert any(m == f"Wrote {path}" for m in messages(app))
        await asyncio.sleep(0.5)  # the watcher reads the file back: nothing changes, nothing is reported
        assert not screen.modified and not any("Reloaded" in m for m in messages(app))
        assert await answer(app, "greeter") == "from the editor"


async def test_declining_an_install_stores_the_function_inactive(db_path: Path, no_subprocess: None) -> None:
    # It imports what was declined, so it cannot load (one that loads without it would be on).
    needs = '"""\ntitle: Needy\nrequirements: tuichat-no-such-package-xyz\n"""\nimport tuichat_no_such_package_xyz\n\nclass Pipe:\n    def pipe(self, body):\n        return "ok"\n'
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        screen.editor.text = needs
        await pilot.press("f2")
        assert "tuichat-no-such-package-xyz" in await confirm(pilot, False)
        await until(pilot, lambda: app.screen is screen and not screen.busy)
        assert app.services is not None
        row = await app.services.library.get("greeter")
        assert row.content == needs and not row.is_active and "installs are off" in (row.load_error or "")
        assert screen.error_shown and "installs are off" in screen.error_text and not screen.modified


async def test_a_missing_import_offers_to_install_it_and_saves_again(
    db_path: Path, local_index: Path, package_name: str
) -> None:
    from tests.wheels import build_wheel, uninstall
    from tuichat.ui.workshop.install_dialog import InstallScreen

    build_wheel(local_index, package_name)
    source = f"import {package_name}\n\nclass Pipe:\n    def pipe(self, body):\n        return f'value={{{package_name}.VALUE}}'\n"
    app = TuichatApp(db_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_editor(pilot)
            screen.editor.text = source
            before = screen.saves_finished
            await pilot.press("f2")
            assert f"imports '{package_name}'" in await confirm(pilot, True)
            await until(pilot, lambda: isinstance(app.screen, InstallScreen) and app.screen.finished, timeout=60)
            install = app.screen
            assert isinstance(install, InstallScreen) and install.outcome is not None and install.outcome.ok
            assert any("Successfully installed" in line for line in install.lines)
            await pilot.press("enter")
            await until(pilot, lambda: screen.saves_finished > before)
            assert not screen.error_shown and not screen.modified
            assert await answer(app, "greeter") == "value=42"
    finally:
        uninstall(package_name)


async def test_a_bad_requirements_line_points_at_it(db_path: Path) -> None:
    bad = '"""\ntitle: Greeter\nrequirements: not a requirement!!\n"""\n\nclass Pipe:\n    def pipe(self, body):\n        return "ok"\n'
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        screen.editor.text = bad
        await saved(pilot, screen)
        assert screen.error_shown and screen.editor.cursor_location[0] == 2
        assert screen.editor.text == bad and screen.modified
        assert (await versions(app, "greeter"))[0].content == bad


async def test_a_stored_load_error_is_shown_when_the_editor_opens(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        await app.runtime()
        assert app.services is not None
        await app.services.library.add(GREETER, function_id="greeter")
        await app.store.functions.update("greeter", is_active=False, load_error="pipes() raised: boom\n\nTraceback: here")
        screen = await open_editor(pilot, source=None)
        assert screen.error_shown and "Stored with an error" in screen.error_text and "boom" in screen.error_text
        assert "inactive" in str(screen.query_one("#status").render())


def test_the_editor_works_without_python_highlighting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without tree-sitter's Python grammar the editor falls back to plain text."""
    import textual.widgets._text_area as text_area_module
    from textual.widgets.text_area import SyntaxAwareDocument

    from tuichat.ui.workshop.code_editor import make_code_editor

    assert isinstance(make_code_editor("x = 1\n").document, SyntaxAwareDocument)
    monkeypatch.setattr(text_area_module, "get_language", lambda name: None)  # no Python grammar
    editor = make_code_editor("x = 1\n")
    assert editor.language is None and editor.text == "x = 1\n" and editor.show_line_numbers
    monkeypatch.setattr(text_area_module, "TREE_SITTER", False)  # no tree-sitter at all
    editor = make_code_editor("x = 1\n")
    assert not isinstance(editor.document, SyntaxAwareDocument) and editor.text == "x = 1\n"


async def test_ctrl_home_and_ctrl_end_go_to_the_start_and_end_of_the_source(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        editor = screen.editor
        last = editor.document.line_count - 1
        await pilot.press("ctrl+end")
        assert editor.cursor_location == line_end(editor, last)
        await pilot.press("ctrl+home")
        assert editor.cursor_location == (0, 0)
        await pilot.press("ctrl+shift+end")
        assert editor.selected_text == editor.text


async def test_save_is_a_binding_with_an_id_in_the_palette(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_editor(pilot)
        ids = {binding.id: binding.key for binding in EditorScreen.BINDINGS}  # type: ignore[union-attr]
        assert ids["editor.save"] == "f2" and ids["editor.history"] == "f4" and ids["editor.find"] == "ctrl+f"
        commands = [command.title for command in app.get_system_commands(screen)]  # type: ignore[arg-type]
        assert "Save" in commands and "History" in commands


# -- snapshot ------------------------------------------------------------------------------
async def _add_greeter(db_path: Path) -> None:
    from tuichat.runtime.host import PipeHost
    from tuichat.runtime.library import FunctionLibrary
    from tuichat.store import Store

    async with await Store.open(db_path) as store, PipeHost(store) as host:
        await FunctionLibrary(host).add(GREETER, function_id="greeter")


def test_editor_with_an_error_80x24(snap_compare: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor after a refused save: the error panel under the text, the cursor on the line."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    asyncio.run(_add_greeter(db_path))

    async def refused_save(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await ready(pilot)
        screen = await show_editor(pilot, "greeter")
        editor = screen.editor
        editor.cursor_blink = False
        editor.move_cursor(line_end(editor, GREETING_LINE))
        await pilot.press(*" +")
        await saved(pilot, screen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app._notifications, "a toast would make the snapshot time-dependent"

    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=refused_save)


async def test_undoing_a_refused_edit_clears_its_error_and_centres_without_scrolling_sideways(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        # A line wider than the view gives the editor a horizontal scrollbar.
        source = GREETER.replace('"hello"', '"hello" + ", what every answer says first"') + "# " + "x" * 150 + "\n"
        screen = await open_editor(pilot, "wide", source)
        editor = screen.editor
        editor.move_cursor(line_end(editor, GREETING_LINE))
        await pilot.press("space", "(")
        await saved(pilot, screen)
        assert screen.error_shown and screen.modified
        await pilot.pause()
        assert editor.scroll_offset.x == 0  # the error's line fits, so the view stays at column 0
        await pilot.press("ctrl+z")
        await until(pilot, lambda: not screen.modified)
        assert not screen.error_shown
