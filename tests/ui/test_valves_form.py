"""The valves form, driven by keyboard at 80x24 against a real SQLite store and a real pipe.

`tests/pipes/valves_form_pipe.py` has a valve of every kind; its reply reports the valves it ran
with, so each test can check that what the form stored is what the next call sees.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select, Static, Switch

from tests.tracing import collect
from tests.ui.helpers import ScreenHost, confirm, until
from tuichat.runtime.host import PipeHost, make_body
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps
from tuichat.store import Store
from tuichat.ui.screens.valves_form import ValveRow, ValvesScreen

SIZE = (80, 24)
PIPE_FILE = Path(__file__).parent.parent / "pipes" / "valves_form_pipe.py"
FID = "valves_form"


@asynccontextmanager
async def opened(make_screen: Callable[[], Any]) -> AsyncIterator[tuple[ScreenHost, Pilot[None], ValvesScreen]]:
    """Push the form `make_screen` makes on a bare app, once it has loaded."""
    app = ScreenHost(make_screen)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.dialog, ValvesScreen) and app.dialog.loaded)
        await pilot.pause()
        assert isinstance(app.dialog, ValvesScreen)
        yield app, pilot, app.dialog


def admin_form(library: FunctionLibrary, fid: str = FID) -> Callable[[], Any]:
    async def make() -> ValvesScreen:
        return ValvesScreen(library, fid, user_id=None)

    return make


def user_form(library: FunctionLibrary) -> Callable[[], Any]:
    async def make() -> ValvesScreen:
        return await ValvesScreen.for_local_user(library, FID)

    return make


@pytest.fixture
async def pipe(library: FunctionLibrary) -> FunctionLibrary:
    await library.add(PIPE_FILE.read_text(), function_id=FID)
    return library


async def ask(host: PipeHost, text: str) -> tuple[str, dict[str, Any]]:
    """The reply's text line and the valves report the pipe ran with."""
    invocation = await host.invoke(FID, make_body(FID, [{"role": "user", "content": text}], stream=False))
    reply = reply_from_steps(await collect(invocation))
    assert reply.status == "done", reply.error
    line, report = reply.content.split("\n", 1)
    return line, json.loads(report)


def error_of(form: ValvesScreen, name: str) -> str | None:
    row = form.row(name)
    return str(row.query_one(".valve--error", Static).render()) if row.has_class("-error") else None


def meta_of(form: ValvesScreen, name: str) -> str:
    return str(form.row(name).query_one(".valve--meta", Label).render())


async def focus(pilot: Pilot[Any], form: ValvesScreen, name: str) -> None:
    """Tab from the first field to `name`, as a user does."""
    target = form.editor(name)
    for _ in range(len(form.rows) + 3):
        if form.focused is target:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab never reached {name}")


async def test_validation_round_trip_and_the_next_call_sees_the_values(pipe: FunctionLibrary, host: PipeHost, store: Store) -> None:
    assert (await ask(host, "hello"))[1]["MAX_TOKENS"] == 256
    async with opened(admin_form(pipe)) as (app, pilot, form):
        assert form.focused is form.editor("PREFIX")  # the first field has the focus
        await focus(pilot, form, "MAX_TOKENS")
        await pilot.press("ctrl+u", "-", "f2")  # not a whole number
        await pilot.pause()
        assert error_of(form, "MAX_TOKENS") == "Not a whole number: -"
        assert error_of(form, "PREFIX") is None
        assert app.screen is form and app.results == []  # not saved, still open
        assert (await store.functions.get(FID)).valves == {}
        assert form.focused is form.editor("MAX_TOKENS")

        await pilot.press("backspace", "0")  # a whole number, out of range: pydantic's message
        await pilot.pause()
        assert error_of(form, "MAX_TOKENS") == "Input should be greater than or equal to 1"  # checked as you type now
        await pilot.press("f2")
        await pilot.pause()
        assert app.results == [] and (await store.functions.get(FID)).valves == {}

        await pilot.press("backspace", *"512")
        await pilot.pause()
        assert error_of(form, "MAX_TOKENS") is None
        await focus(pilot, form, "UPPERCASE")
        await pilot.press("space")  # the Switch
        await focus(pilot, form, "MODE")
        await pilot.press("enter", "down", "enter")  # open the select, pick "reverse"
        await pilot.pause()
        assert isinstance(form.editor("MODE"), Select) and meta_of(form, "MODE").endswith("custom")
        await pilot.press("f2")
        await until(pilot, lambda: app.results != [])
    expected = {"MAX_TOKENS": 512, "UPPERCASE": True, "MODE": "reverse"}
    assert app.results == [expected]
    assert (await store.functions.get(FID)).valves == expected  # exactly the fields set
    line, report = await ask(host, "hello")
    assert line == "OLLEH"
    assert (report["MAX_TOKENS"], report["UPPERCASE"], report["MODE"]) == (512, True, "reverse")


async def test_reset_to_default_removes_the_key(pipe: FunctionLibrary, host: PipeHost, store: Store) -> None:
    await pipe.set_valves(FID, {"PREFIX": ">> ", "MAX_TOKENS": 99, "STYLE": "md"})
    async with opened(admin_form(pipe)) as (app, pilot, form):
        editor = form.editor("MAX_TOKENS")
        assert isinstance(editor, Input) and editor.value == "99"
        assert meta_of(form, "MAX_TOKENS") == "int · custom"
        style = form.editor("STYLE")
        assert isinstance(style, Select) and style.selection == 1  # "Markdown"
        await focus(pilot, form, "MAX_TOKENS")
        await pilot.press("f3")
        await pilot.pause()
        assert editor.value == "256" and meta_of(form, "MAX_TOKENS") == "int · default"
        await focus(pilot, form, "STYLE")
        await pilot.press("f3")
        await pilot.press("f2")
        await until(pilot, lambda: app.results != [])
    assert app.results == [{"PREFIX": ">> "}]
    assert (await store.functions.get(FID)).valves == {"PREFIX": ">> "}
    line, report = await ask(host, "hi")
    assert line == ">> hi" and report["MAX_TOKENS"] == 256 and report["STYLE"] == "plain"


async def test_optional_blank_json_and_secret_fields(pipe: FunctionLibrary, host: PipeHost, store: Store) -> None:
    await pipe.set_valves(FID, {"SEED": 7})
    async with opened(admin_form(pipe)) as (app, pilot, form):
        key = form.editor("API_KEY")
        assert isinstance(key, Input) and key.password  # masked
        await focus(pilot, form, "API_KEY")
        await pilot.press(*"sk-123")
        assert "sk-123" not in app.export_screenshot()
        await pilot.press("f4")  # reveal
        await pilot.pause()
        assert not key.password and meta_of(form, "API_KEY") == "str · shown · custom"
        await pilot.press("f4")
        await pilot.pause()
        assert key.password

        await focus(pilot, form, "STOP")
        await pilot.press("ctrl+u", *'["a", 1]', "f2")  # JSON, but 1 is not a str
        await pilot.pause()
        assert error_of(form, "STOP") == "[1]: Input should be a valid string"
        await pilot.press("ctrl+u", *'["END"]')
        await focus(pilot, form, "SEED")
        await pilot.press("ctrl+u")  # optional: blank means unset
        await pilot.press("f2")
        await until(pilot, lambda: app.results != [])
    assert (await store.functions.get(FID)).valves == {"API_KEY": "sk-123", "STOP": ["END"]}
    report = (await ask(host, "x"))[1]
    assert (report["API_KEY"], report["STOP"], report["SEED"]) == ("sk-123", ["END"], None)


async def test_user_valves_are_the_local_users_own(pipe: FunctionLibrary, host: PipeHost, store: Store) -> None:
    user = await store.users.local()
    async with opened(user_form(pipe)) as (app, pilot, form):
        assert form.user_id == user["id"]
        assert [row.valve.name for row in form.rows] == ["SIGNATURE", "VERBOSE"]
        assert "F4" not in str(form.query_one(".dialog--keys", Static).render())  # no secret to show
        await pilot.press(*" --ada", "tab", "space", "f2")
        await until(pilot, lambda: app.results != [])
    assert app.results == [{"SIGNATURE": " --ada", "VERBOSE": True}]
    assert await store.functions.get_user_valves(FID, user["id"]) == {"SIGNATURE": " --ada", "VERBOSE": True}
    assert (await store.functions.get(FID)).valves == {}  # the admin valves are untouched
    line, report = await ask(host, "hey")
    assert line == "hey --ada" and report["user"] == {"SIGNATURE": " --ada", "VERBOSE": True}


async def test_escape_asks_before_dropping_changes(pipe: FunctionLibrary, store: Store) -> None:
    async with opened(admin_form(pipe)) as (app, pilot, form):
        await pilot.press("escape")  # nothing changed: closes at once
        await pilot.pause()
        assert app.results == [None]
    async with opened(admin_form(pipe)) as (app, pilot, form):
        await pilot.press("x", "escape")
        await confirm(pilot, False)  # keep editing
        await until(pilot, lambda: app.screen is form)
        assert form.editor("PREFIX").value == "x"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await confirm(pilot, True)
        await until(pilot, lambda: app.results != [])
        assert app.results == [None]
    assert (await store.functions.get(FID)).valves == {}


async def test_a_function_without_valves_says_so(library: FunctionLibrary) -> None:
    source = '"""\ntitle: Plain\n"""\n\nclass Pipe:\n    def pipe(self, body):\n        return "ok"\n'
    await library.add(source, function_id="plain")
    async with opened(admin_form(library, "plain")) as (app, pilot, form):
        message = str(form.query_one("#valves-message", Static).render())
        assert message == "function 'plain' has no Valves class, so it has no valves to set."
        assert form.rows == []
        await pilot.press("f2", "enter")  # F2 does nothing; Enter presses Close
        await until(pilot, lambda: app.results != [])
    assert app.results == [None]


async def test_every_field_shows_title_description_default_and_state(pipe: FunctionLibrary) -> None:
    await pipe.set_valves(FID, {"COLOUR": "blue"})
    async with opened(admin_form(pipe)) as (_app, _pilot, form):
        assert isinstance(form.editor("UPPERCASE"), Switch) and isinstance(form.editor("COLOUR"), Select)
        assert isinstance(form.editor("TEMPERATURE"), Input) and form.editor("TEMPERATURE").type == "number"  # type: ignore[attr-defined]
        assert form.editor("MAX_TOKENS").type == "integer"  # type: ignore[attr-defined]
        helps = {row.valve.name: str(row.query_one(".valve--help", Static).render()) for row in form.rows}
        assert helps["MAX_TOKENS"] == "Longest reply, in tokens. Default: 256."
        assert helps["STYLE"] == "A select from json_schema_extra. Default: Plain text."
        assert helps["API_KEY"] == "Sent to the provider. Default: (empty)."
        assert helps["SUFFIX"] == "Optional: blank means unset. Default: unset."
        assert helps["UPPERCASE"] == "Shout the reply. Default: off."
        assert meta_of(form, "COLOUR") == "Colour · custom" and meta_of(form, "MODE") == "Literal['echo', 'reverse'] · default"
        assert all(isinstance(row, ValveRow) for row in form.rows)
        # The whole form fits 80x24: Save and the key hints stay on screen.
        save = form.query_one("#save")
        assert save.region.bottom <= SIZE[1] and form.query_one(".dialog--keys").region.bottom <= SIZE[1]


# -- snapshot -------------------------------------------------------------------------------
class SnapshotHost(App[None]):
    """Opens a seeded store and shows the admin valves form, as the pipes screen does."""

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.store: Store | None = None

    async def on_mount(self) -> None:
        self.store = await Store.open(self.db_path)
        self.push_screen(ValvesScreen(FunctionLibrary(PipeHost(self.store)), FID))

    async def on_unmount(self) -> None:
        if self.store is not None:
            await self.store.close()


async def _seed(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        library = FunctionLibrary(PipeHost(store))
        await library.add(PIPE_FILE.read_text(), function_id=FID)
        await library.set_valves(FID, {"PREFIX": ">> ", "API_KEY": "sk-secret", "MAX_TOKENS": 512})


def test_valves_form_snapshot(snap_compare: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    asyncio.run(_seed(db_path))

    async def ready(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, ValvesScreen) and pilot.app.screen.loaded)
        form = pilot.app.screen
        assert isinstance(form, ValvesScreen)
        for widget in form.query(Input):
            widget.cursor_blink = False
        await pilot.press("tab", "tab", "ctrl+u", "0", "f2")  # MAX_TOKENS out of range: the inline error
        await pilot.pause()
        assert error_of(form, "MAX_TOKENS")
        await pilot.pause()

    assert snap_compare(SnapshotHost(db_path), terminal_size=SIZE, run_before=ready)
