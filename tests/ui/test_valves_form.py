"""The valves form, driven by keyboard at 80x24 against a real SQLite store and a real pipe.

`tests/pipes/valves_form_pipe.py` has a valve of every kind; its reply reports the valves it ran
with, so each test can check that what the form stored is what the next call sees. The form
runs in the tuichat app (it takes its library from `app.runtime()`), started on the test's store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select, Static, Switch

from tests.test_cli import tuichat as run_cli
from tests.tracing import collect
from tests.ui.helpers import confirm, until
from tuichat.runtime.host import PipeHost, make_body
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps
from tuichat.runtime.services import Services
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.screens.valve_row import SECRET_DEFAULT, ValveRow
from tuichat.ui.screens.valves_form import ValvesScreen

SIZE = (80, 24)
PIPE_FILE = Path(__file__).parent.parent / "pipes" / "valves_form_pipe.py"
FID = "valves_form"


MakeForm = Callable[[Services], Awaitable[ValvesScreen]]


class FormHost(TuichatApp):
    """The tuichat app with its runtime on `services` (or on a store it opens at `db_path`),
    showing only one valves form, as the pipes screen shows it; records what the form returns."""

    def __init__(self, make_screen: MakeForm, *, services: Services | None = None, db_path: Path | None = None) -> None:
        super().__init__(db_path or Path("unused.db"))
        self.services = services
        self.make_screen = make_screen
        self.dialog: ValvesScreen | None = None
        self.results: list[Any] = []
        self._opened: Store | None = None

    @property
    def store(self) -> Store:
        assert self.services is not None
        return self.services.store

    async def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # not the app's own: no chat screen under the form
        if self.services is None:
            self._opened = await Store.open(self.db_path)
            host = PipeHost(self._opened)
            self.services = Services(self._opened, host, FunctionLibrary(host))
        self.dialog = await self.make_screen(self.services)
        self.push_screen(self.dialog, self.results.append)

    async def on_unmount(self, event: events.Unmount) -> None:
        event.prevent_default()
        if self._opened is not None:
            if self.services is not None:
                await self.services.close()
            await self._opened.close()


@asynccontextmanager
async def opened(library: FunctionLibrary, make_screen: MakeForm) -> AsyncIterator[tuple[FormHost, Pilot[None], ValvesScreen]]:
    """Push the form `make_screen` makes in the app running on `library`, once it has loaded."""
    app = FormHost(make_screen, services=Services(library.store, library.host, library))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.dialog, ValvesScreen) and app.dialog.loaded)
        await pilot.pause()
        assert isinstance(app.dialog, ValvesScreen)
        yield app, pilot, app.dialog


def admin_form(fid: str = FID) -> MakeForm:
    async def make(services: Services) -> ValvesScreen:
        return ValvesScreen(fid)

    return make


async def user_form(services: Services) -> ValvesScreen:
    return ValvesScreen(FID, user_id=(await services.store.users.local())["id"])


def screen_text(app: FormHost) -> str:
    return app.export_screenshot().replace("&#160;", " ")


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
    async with opened(pipe, admin_form()) as (app, pilot, form):
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
    async with opened(pipe, admin_form()) as (app, pilot, form):
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
    async with opened(pipe, admin_form()) as (app, pilot, form):
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
    async with opened(pipe, user_form) as (app, pilot, form):
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
    async with opened(pipe, admin_form()) as (app, pilot, form):
        await pilot.press("escape")  # nothing changed: closes at once
        await pilot.pause()
        assert app.results == [None]
    async with opened(pipe, admin_form()) as (app, pilot, form):
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
    async with opened(library, admin_form("plain")) as (app, pilot, form):
        message = str(form.query_one("#valves-message", Static).render())
        assert message == "function 'plain' has no Valves class, so it has no valves to set."
        assert form.rows == []
        await pilot.press("f2", "enter")  # F2 does nothing; Enter presses Close
        await until(pilot, lambda: app.results != [])
    assert app.results == [None]


async def test_every_field_shows_title_description_default_and_state(pipe: FunctionLibrary) -> None:
    await pipe.set_valves(FID, {"COLOUR": "blue"})
    async with opened(pipe, admin_form()) as (_app, _pilot, form):
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


async def test_the_form_says_when_it_has_unsaved_changes(pipe: FunctionLibrary) -> None:
    async with opened(pipe, admin_form()) as (app, pilot, form):
        assert "unsaved changes" not in screen_text(app)
        await pilot.press("x")
        await pilot.pause()
        assert "unsaved changes" in screen_text(app)
        await pilot.press("f3")  # back to the default, as stored: nothing to lose
        await pilot.pause()
        assert "unsaved changes" not in screen_text(app)
        await pilot.press("escape")  # so Escape closes without asking
        await until(pilot, lambda: app.results != [])
    assert app.results == [None]


async def test_a_failed_load_is_a_message_not_a_crash(pipe: FunctionLibrary, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("the database is gone")

    monkeypatch.setattr(pipe.host, "valves", broken)
    async with opened(pipe, admin_form()) as (app, pilot, form):
        text = screen_text(app)
        assert "Could not load the valves: the database is gone" in text
        assert "Close" in text and "F2" not in text  # nothing to save
        await pilot.press("f2", "escape")
        await until(pilot, lambda: app.results != [])
    assert app.results == [None] and app.return_code is None  # the app did not stop on the error


async def test_a_failed_save_is_said_on_the_form_which_stays_open(
    pipe: FunctionLibrary, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_valves = pipe.set_valves

    async def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(pipe, "set_valves", full)
    async with opened(pipe, admin_form()) as (app, pilot, form):
        await pilot.press(*"> ", "f2")
        await until(pilot, lambda: "Could not save: disk full" in screen_text(app))
        assert app.screen is form and app.results == []
        monkeypatch.setattr(pipe, "set_valves", set_valves)  # the disk has room again: save again
        await pilot.press("f2")
        await until(pilot, lambda: app.results != [])
    assert app.results == [{"PREFIX": "> "}] and (await store.functions.get(FID)).valves == {"PREFIX": "> "}


async def test_a_validator_that_kills_the_pipe_process_is_an_error_on_the_form(library: FunctionLibrary, store: Store) -> None:
    """The form's values are checked in the pipe host: a validator calling os._exit costs that
    process; the form says so, stays open, and the next save (on a new host) works."""
    from tests.test_valves_host import EXITING

    await library.add(EXITING, function_id="exiting")
    async with opened(library, admin_form("exiting")) as (app, pilot, form):
        await pilot.press("ctrl+u", *"666", "f2")
        await until(pilot, lambda: "stopped the pipe process" in screen_text(app) and not form.saving)
        assert app.screen is form and app.results == [] and app.return_code is None
        await pilot.press("ctrl+u", "5", "f2")
        await until(pilot, lambda: app.results != [])
    assert app.results == [{"LIMIT": 5}] and (await store.functions.get("exiting")).valves == {"LIMIT": 5}


def _table(out: str) -> dict[str, dict[str, str]]:
    """`tuichat pipes valves` output, by field: {column: text}, cut where the header's columns start."""
    header, *lines = out.splitlines()
    names = header.split()
    starts = [header.index(name) for name in names]
    return {
        line[: starts[1]].strip(): {name: line[start:end].strip() for name, start, end in zip(names, starts, [*starts[1:], None])}
        for line in lines
    }


def _shown_default(row: ValveRow, default: Any) -> str:
    """The form's words for a default the CLI prints as JSON."""
    if default is None:
        return "unset"
    if row.valve.kind == "bool":
        return "on" if default else "off"
    if row.valve.secret:
        return SECRET_DEFAULT if default else "(empty)"
    if row.valve.kind == "select":
        return next(option.label for option in row.valve.options if option.value == default)
    text = default if isinstance(default, str) else json.dumps(default)
    return text or '""'


def _editor_holds(row: ValveRow, value: Any) -> bool:
    """Whether the form's editor shows the value the CLI prints as JSON."""
    editor, shown = row.editor, row.read()
    if isinstance(editor, (Switch, Select)):
        return shown == value
    if row.valve.kind in ("text", "secret"):
        return shown == ("" if value is None else value)
    return (json.loads(shown) if shown.strip() else None) == value


async def test_the_cli_table_and_the_form_show_the_same_fields(pipe: FunctionLibrary, db_path: Path) -> None:
    """Every kind of field: name, type, value, whether set, default and description agree."""
    await pipe.set_valves(FID, {"PREFIX": ">> ", "API_KEY": "sk-1", "UPPERCASE": True, "MODE": "reverse", "STOP": ["END"], "SEED": 3})
    listed = await asyncio.to_thread(run_cli, db_path, "pipes", "valves", FID)
    assert listed.returncode == 0, listed.stderr
    table = _table(listed.stdout)
    async with opened(pipe, admin_form()) as (_app, _pilot, form):
        assert list(table) == [row.valve.name for row in form.rows]
        kinds = set()
        for row in form.rows:
            cli = table[row.valve.name]
            kinds.add(row.valve.kind)
            type_name, *_, state = meta_of(form, row.valve.name).split(" · ")
            value, set_mark = cli["VALUE"].removesuffix(" (set)"), cli["VALUE"].endswith(" (set)")
            assert cli["TYPE"] == type_name, row.valve.name
            assert set_mark == (state == "custom"), row.valve.name
            assert _editor_holds(row, json.loads(value)), row.valve.name
            help_text = str(row.query_one(".valve--help", Static).render())
            assert help_text == f"{cli['DESCRIPTION']} Default: {_shown_default(row, json.loads(cli['DEFAULT']))}.", row.valve.name
    assert kinds == {"text", "int", "float", "bool", "select", "secret", "json"}


# -- snapshot -------------------------------------------------------------------------------
async def _seed(db_path: Path) -> None:
    async with await Store.open(db_path) as store, PipeHost(store) as host:
        library = FunctionLibrary(host)
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
        await until(pilot, lambda: error_of(form, "MAX_TOKENS") and not form.saving)
        await pilot.pause()

    assert snap_compare(FormHost(admin_form(), db_path=db_path), terminal_size=SIZE, run_before=ready)


NESTED_PIPE = '''
from pydantic import BaseModel, Field

class Options(BaseModel):
    depth: int = 1
    label: str = ""

class Pipe:
    class Valves(BaseModel):
        OPTIONS: Options = Field(default_factory=Options, description="A nested model, edited as JSON.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body):
        return str(self.valves.OPTIONS.depth)
'''


async def test_a_json_field_refuses_a_key_its_model_lacks(library: FunctionLibrary, store: Store) -> None:
    await library.add(NESTED_PIPE, function_id="nested")
    async with opened(library, admin_form("nested")) as (app, pilot, form):
        await focus(pilot, form, "OPTIONS")
        await pilot.press("ctrl+u", *'{"dpth": 2}', "f2")  # pydantic alone would drop the key and store {}
        await until(pilot, lambda: error_of(form, "OPTIONS") is not None)
        assert error_of(form, "OPTIONS") == "OPTIONS has no key 'dpth'; its keys are depth, label (names are case-sensitive)"
        assert app.screen is form and app.results == []
        assert (await store.functions.get("nested")).valves == {}  # nothing saved
        await pilot.press("ctrl+u", *'{"depth": 2}', "f2")
        await until(pilot, lambda: app.results != [])
    assert (await store.functions.get("nested")).valves == {"OPTIONS": {"depth": 2}}


# -- a pipe's words on the form are shown, not obeyed ------------------------------------------
HOSTILE_VALVES = '''
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field, field_validator

ESC = "\\x1b"


class Shade(str, Enum):
    DARK = "dark" + ESC + "[2J"
    LIGHT = "light"


class Pipe:
    class Valves(BaseModel):
        GREETING: str = Field(default="hi" + ESC + "]52;c;aGk=" + "\\x07", title="Greet" + ESC + "[31m", description="Says" + ESC + "[2J hello")
        MODE: Literal["calm", "loud" + ESC + "]0;pwned" + "\\x07"] = Field(default="calm", description="Mode.")
        SHADE: Shade = Field(default=Shade.LIGHT, description="Shade.")
        STYLE: str = Field(default="a", json_schema_extra={"input": {"type": "select", "options": [{"value": "a", "label": "A" + ESC + "[5m"}, "b"]}})
        LIMIT: int = Field(default=1, description="Limit.")

        @field_validator("LIMIT")
        @classmethod
        def small(cls, value: int) -> int:
            if value > 5:
                raise ValueError("too big" + ESC + "[2J")
            return value

    def pipe(self, body: dict) -> str:
        return self.valves.GREETING
'''


async def test_valve_titles_options_values_and_errors_are_neutralised(library: FunctionLibrary, db_path: Path) -> None:
    await library.add(HOSTILE_VALVES, function_id="hostile")
    async with opened(library, admin_form("hostile")) as (app, pilot, form):
        shown = screen_text(app)
        assert "\x1b" not in shown
        assert "Greet␛[31m (GREETING)" in shown and "Says␛[2J hello" in shown
        greeting = form.editor("GREETING")
        assert isinstance(greeting, Input) and greeting.value == "hi␛]52;c;aGk=␇"
        meta = meta_of(form, "MODE")
        assert "\x1b" not in meta and "pwned" in meta  # the type's name (a repr of the choices)
        for name, label in (("MODE", "loud␛]0;pwned␇"), ("SHADE", "dark␛[2J"), ("STYLE", "A␛[5m")):
            select = form.editor(name)
            assert isinstance(select, Select)
            await focus(pilot, form, name)
            await pilot.press("enter")  # the options open: every label shows its controls
            await pilot.pause()
            shown = screen_text(app)
            assert label in shown and "\x1b" not in shown, name
            await pilot.press("escape")
            await pilot.pause()
        # A validator's message is the pipe's too.
        limit = form.editor("LIMIT")
        assert isinstance(limit, Input)
        limit.value = "9"
        await pilot.press("f2")  # the save is refused, and says why
        await until(pilot, lambda: error_of(form, "LIMIT") is not None)
        error = error_of(form, "LIMIT")
        assert error is not None and "too big␛[2J" in error and "\x1b" not in error
        # Shown neutralised, an untouched value is still the pipe's own: resetting LIMIT and
        # saving keeps GREETING's default, control characters and all.
        await focus(pilot, form, "LIMIT")
        await pilot.press("f3", "f2")
        await until(pilot, lambda: app.results != [])
    stored = await library.store.functions.get("hostile")
    assert stored is not None and "GREETING" not in stored.valves
    # The CLI's table shows the same words, neutralised.
    listed = await asyncio.to_thread(run_cli, db_path, "pipes", "valves", "hostile")
    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout and "\x07" not in listed.stdout
    assert "Says␛[2J hello" in listed.stdout and "pwned" in listed.stdout
