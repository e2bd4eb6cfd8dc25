"""Nothing typed is lost: quitting with unsaved changes in the pipe editor asks first, the prompt
keeps a draft per chat (across chat switches and restarts), and the valves form refuses NaN and
Infinity. Pilot against the real app on a real SQLite file; the assertions are on what is on
screen and what is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from textual.widgets.option_list import OptionDoesNotExist

from tests.ui.helpers import chat_with, ready, screen_lines, until
from tests.ui.test_editor import GREETER, open_editor
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.workshop.editor_screen import EditorScreen
from tuichat.ui.workshop.unsaved_changes import UnsavedChangesScreen

SIZE = (100, 30)


def shown(app: TuichatApp) -> str:
    return "\n".join(screen_lines(app))


def quit_asked(app: TuichatApp) -> UnsavedChangesScreen | None:
    screen = app.screen
    return screen if isinstance(screen, UnsavedChangesScreen) and screen.quitting else None


async def modified_editor(pilot: Pilot[Any]) -> EditorScreen:
    editor = await open_editor(pilot)
    editor.editor.move_cursor(editor.editor.document.end)
    await pilot.press("#", "space", "k", "e", "e", "p")
    await until(pilot, lambda: editor.modified)
    return editor


# -- quitting with unsaved changes ---------------------------------------------------------------
async def test_ctrl_q_with_a_modified_editor_asks_and_stay_keeps_the_app(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await modified_editor(pilot)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: quit_asked(app) is not None)
        text = shown(app)
        assert "Quit with unsaved changes?" in text and "'greeter' has changes that are not saved." in text
        assert "Save and quit" in text and "Quit without saving" in text and "Stay" in text
        await pilot.press("escape")  # stay
        await until(pilot, lambda: app.screen is editor)
        await pilot.pause(0.1)
        assert app.is_running and app.return_code is None
        assert editor.editor.text == GREETER + "# keep" and "● modified" in shown(app)
        # The command palette's Quit asks the same.
        await app.run_action("quit")
        await until(pilot, lambda: quit_asked(app) is not None and bool(app.screen.query("#cancel")))
        await pilot.click("#cancel")
        await until(pilot, lambda: app.screen is editor)
        assert app.return_code is None
        # Quit without saving: the app ends, the stored source is the old one.
        await pilot.press("ctrl+q")
        await until(pilot, lambda: quit_asked(app) is not None)
        await pilot.press("d")
        await until(pilot, lambda: app.return_code is not None)
    async with await Store.open(db_path) as store:
        row = await store.functions.get("greeter")
        assert row is not None and row.content == GREETER


async def test_save_and_quit_saves_then_quits_and_a_refused_save_stays(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await modified_editor(pilot)
        # A source that does not compile: "save and quit" keeps the app open and says why.
        editor.editor.insert("\ndef broken(:\n")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: quit_asked(app) is not None)
        await pilot.press("s")
        await until(pilot, lambda: any("Not quitting: 'greeter' was not saved" in str(n.message) for n in app._notifications))
        assert app.return_code is None and app.screen is editor
        assert "Not saved at line" in shown(app)
        # Fixed, "save and quit" stores it and quits.
        editor.editor.replace_all(GREETER + "# saved on quit\n")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: quit_asked(app) is not None)
        await pilot.press("s")
        await until(pilot, lambda: app.return_code is not None)
    async with await Store.open(db_path) as store:
        row = await store.functions.get("greeter")
        assert row is not None and row.content == GREETER + "# saved on quit\n"


async def test_ctrl_q_quits_at_once_when_nothing_is_unsaved(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_editor(pilot)  # open, but unmodified
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None)


# -- prompt drafts ------------------------------------------------------------------------------
async def open_listed(pilot: Pilot[Any], screen: ChatScreen, chat_id: str) -> None:
    """Open a chat from the chat list, as the user does: focus it, highlight the chat, Enter."""
    chats = screen.query_one(ChatList)
    chats.focus()
    # Focused and listing it first: a refresh of an unfocused list puts the cursor back on the
    # open chat (a busy machine ran one between the highlight and Enter).
    await until(pilot, lambda: chats.has_focus and listed(chats, chat_id))
    chats.highlighted = chats.get_option_index(chat_id)
    await pilot.press("enter")
    await until(pilot, lambda: screen.chat is not None and screen.chat.id == chat_id)
    screen.query_one(Prompt).focus()


def listed(chats: ChatList, chat_id: str) -> bool:
    try:
        chats.get_option_index(chat_id)
    except OptionDoesNotExist:
        return False
    return True


async def typed(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*("space" if c == " " else c for c in text))


async def prompt_shows(pilot: Pilot[Any], app: TuichatApp, text: str) -> None:
    prompt = app.screen.query_one(Prompt)
    await until(pilot, lambda: prompt.text == text)
    if text:
        await until(pilot, lambda: text in shown(app))


async def test_drafts_survive_chat_switches_and_a_restart(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        first = await store.chats.create("First chat")
        second = await store.chats.create("Second chat")
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await typed(pilot, "half a thought")  # in the New chat
        await open_listed(pilot, screen, first.id)
        await prompt_shows(pilot, app, "")
        await typed(pilot, "for the first")
        await open_listed(pilot, screen, second.id)
        await prompt_shows(pilot, app, "")
        await open_listed(pilot, screen, first.id)
        await prompt_shows(pilot, app, "for the first")
        await pilot.press("ctrl+n")
        await prompt_shows(pilot, app, "half a thought")
        await open_listed(pilot, screen, second.id)
        await typed(pilot, "typed just before quitting")  # stored as the app closes, not later
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None)

    app = TuichatApp(db_path)  # the same database, a new app: the chat open at the end opens again
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await prompt_shows(pilot, app, "typed just before quitting")
        await open_listed(pilot, screen, first.id)
        await prompt_shows(pilot, app, "for the first")
        await pilot.press("ctrl+n")
        await prompt_shows(pilot, app, "half a thought")


async def test_sending_clears_the_draft(db_path: Path) -> None:
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await typed(pilot, "unsent")
        await pilot.pause(1.3)  # stored by the timer while typing
        async with await Store.open(db_path) as other:
            assert await other.drafts.get(None) == "unsent"
        await pilot.press(*["backspace"] * 6)
        await chat_with(pilot, screen, "echo", "sent")
        assert screen.chat is not None
        chat_id = screen.chat.id
        await typed(pilot, "next one")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None)
    async with await Store.open(db_path) as store:
        assert await store.drafts.get(None) == ""  # sent: no draft left behind
        assert await store.drafts.get(chat_id) == "next one"  # the created chat's own
        assert await store.settings.get("draft:new") is None  # an empty draft is no row at all


async def test_a_deleted_chat_takes_its_draft_with_it(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        doomed = await store.chats.create("Doomed chat")
        await store.drafts.set(None, "for a new chat")
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await open_listed(pilot, screen, doomed.id)
        await typed(pilot, "never sent")
        await pilot.press("f8")  # delete, asks first
        await until(pilot, lambda: "Delete the chat “Doomed chat”?" in shown(app))
        await pilot.press("y")
        await until(
            pilot, lambda: screen.chat is None and any("Deleted “Doomed chat”" in str(n.message) for n in app._notifications)
        )
        await prompt_shows(pilot, app, "for a new chat")  # the New chat's draft, as left
        await pilot.pause(1.3)  # past the draft timer: nothing is stored for the deleted chat
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.return_code is not None)
    async with await Store.open(db_path) as store:
        assert await store.drafts.get(doomed.id) == ""
        assert [key for (key,) in await store.fetchall("SELECT key FROM setting WHERE key LIKE 'draft:%'")] == ["draft:new"]


# -- NaN and Infinity in the valves form ---------------------------------------------------------
FLOAT_VALVES = (Path(__file__).parents[1] / "pipes" / "float_valves.py").read_text(encoding="utf-8")


async def test_the_valves_form_refuses_nan_and_infinity(db_path: Path) -> None:
    from tuichat.ui.screens.valves_form import ValvesScreen

    app = TuichatApp(db_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        services = await app.runtime()
        await services.library.add(FLOAT_VALVES, function_id="fv")
        results: list[Any] = []
        form = ValvesScreen("fv")
        await app.push_screen(form, results.append)
        await until(pilot, lambda: bool(form.query(".valve")))
        inputs = list(form.query(Input))
        temperature, extra = inputs[0], inputs[1]
        for field, value, message in (
            (temperature, "1e999", "1e999 is not a finite number, and JSON cannot store NaN or Infinity"),
            (extra, '{"limits": [1, NaN]}', "NaN at limits[1] is not valid JSON, and cannot be stored"),
            (extra, '{"x": Infinity}', "Infinity at x is not valid JSON"),
        ):
            field.focus()
            field.value = value
            await pilot.press("f2")
            await until(pilot, lambda message=message: message in shown(app))
            assert app.screen is form and not results  # not saved, still open
            field.value = "0.5" if field is temperature else "{}"
        async with await Store.open(db_path) as store:
            row = await store.functions.get("fv")
            assert row is not None and row.valves == {}


# -- large sources in the editor -------------------------------------------------------------------
def big_source(size: int, tail: str = "") -> str:
    """A working pipe, then data lines up to about `size` characters, then `tail`."""
    head = '"""\ntitle: Big\n"""\n\n\nclass Pipe:\n    def pipe(self, body):\n        return "big"\n\n\n'
    line = "DATA = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'  # generated\n"
    return head + line * max(0, (size - len(head)) // len(line)) + tail


async def store_big(pilot: Pilot[Any], function_id: str, source: str) -> None:
    app = pilot.app
    assert isinstance(app, TuichatApp)
    await ready(pilot)
    await app.runtime()
    await app.store.functions.insert(function_id, name="Big", type="pipe", content=source)


def line_styles(app: TuichatApp, text: str) -> set[str]:
    """The styles of the painted line holding `text`."""
    for strip in app.screen._compositor.render_strips():
        if text in "".join(segment.text for segment in strip):
            return {str(segment.style) for segment in strip if segment.text.strip()}
    raise AssertionError(f"{text!r} is not on screen")


async def test_a_large_source_opens_as_plain_text_and_edits_normally(db_path: Path) -> None:
    from tests.ui.test_editor import show_editor

    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        source = big_source(1_200_000, tail="def last_function():\n    return 'end'\n")
        await store_big(pilot, "big", source)
        editor = await show_editor(pilot, "big")
        assert "plain text: no highlighting above 256 KB" in shown(app)
        await pilot.press("ctrl+end")
        await typed(pilot, "# more")
        await until(pilot, lambda: "# more" in shown(app) and editor.modified)
        assert editor.editor.text == source + "# more"
        await pilot.press("ctrl+z")
        await until(pilot, lambda: not editor.modified)
        assert editor.editor.text == source
        await typed(pilot, "x = 1")
        await until(pilot, lambda: editor.modified)
        before = editor.saves_finished
        await pilot.press("f2")
        await until(pilot, lambda: editor.saves_finished > before)
        assert not editor.modified and "saved" in shown(app)
    async with await Store.open(db_path) as store:
        row = await store.functions.get("big")
        assert row is not None and row.content == source + "x = 1"


async def test_highlighting_follows_the_view_in_a_long_source(db_path: Path) -> None:
    from tests.ui.test_editor import show_editor

    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        source = big_source(150_000, tail="def far_down():\n    return 'end'\n")
        await store_big(pilot, "long", source)
        editor = await show_editor(pilot, "long")
        if not editor.highlighting:
            return  # no tree-sitter Python here: nothing to check
        assert "Python" in shown(app)
        await pilot.press("ctrl+end")
        await until(pilot, lambda: "def far_down" in shown(app))
        await pilot.pause(0.1)
        assert len(line_styles(app, "def far_down")) > 1  # `def`, the name, the punctuation: not one style
        await pilot.press("ctrl+home")
        await until(pilot, lambda: "class Pipe:" in shown(app))
        assert len(line_styles(app, "class Pipe:")) > 1


async def test_a_source_over_the_limit_is_refused_with_how_to_edit_it(db_path: Path) -> None:
    from tuichat.ui.workshop.editor_screen import EditorScreen

    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await store_big(pilot, "huge", big_source(int(9.5 * 1024 * 1024)))
        editor = EditorScreen("huge")
        await app.push_screen(editor)
        await until(pilot, lambda: not editor.is_attached)
        assert isinstance(app.screen, ChatScreen)
        # The toast (notifications are what the toast rack shows).
        await until(pilot, lambda: any(n.title == "Too large to edit here" for n in app._notifications))
        message = next(str(n.message) for n in app._notifications if n.title == "Too large to edit here")
        assert "'huge' is 9.5 MB: the editor opens sources up to 8 MB" in message
        assert "tuichat pipes export huge > huge.py" in message and "tuichat --watch huge.py" in message


# -- ended from outside: no one to ask ------------------------------------------------------------
async def test_sighup_keeps_an_editors_unsaved_text_in_its_history(db_path: Path) -> None:
    """An SSH drop (SIGHUP) while a pipe editor has unsaved changes: the app ends as it must, and
    the text is kept as an "unsaved" version of the pipe, not served; the next editor on it says
    so, and F4 History loads it back."""
    import os
    import signal

    from tuichat.ui.workshop.history_screen import HistoryScreen

    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        await modified_editor(pilot)
        assert signal.SIGHUP in app._signals  # the app handles it: the signal cannot end pytest
        os.kill(os.getpid(), signal.SIGHUP)
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_value == 128 + signal.SIGHUP  # the exit status run_app gives
    async with await Store.open(db_path) as store:
        row = await store.functions.get("greeter")
        assert row is not None and row.content == GREETER  # the last save keeps serving
        latest = await store.functions.latest_version("greeter")
        assert latest is not None and latest.origin == "unsaved" and latest.content == GREETER + "# keep"

    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, source=None)
        assert editor.editor.text == GREETER
        await until(pilot, lambda: any(n.title == "Unsaved edits kept" for n in app._notifications))  # the toast
        assert any(
            "'greeter' left unsaved when tuichat was ended are in its history: F4" in str(n.message) for n in app._notifications
        )
        await pilot.press("f4")
        await until(pilot, lambda: isinstance(app.screen, HistoryScreen) and "unsaved" in shown(app))
        await pilot.press("enter")  # the newest version, highlighted: loaded into the editor
        await until(pilot, lambda: app.screen is editor and editor.editor.text == GREETER + "# keep")
        assert editor.modified  # loaded, not saved: F2 saves it
