"""The pipes screen: every stored function, its models and problems, and what you can do to it.

A table lists each function (on/off, id, name, type, the models it offers, a short status, and
on wider terminals version, author and description; it never scrolls sideways), and a panel
under it shows the highlighted one in full: title line with version and author, description,
models, requirements, linked file with the last live-reload report, and its load or install
error, plus the error of the last action that failed.

Keys: Enter/e edit · n new from a template · t/space switch on or off · i import a .py file ·
I import an Open WebUI functions export (JSON) · x export them all · d duplicate · F8/Delete
delete · v valves · u your user valves · l link to a file (or unlink) · r refresh · Escape back;
in the table Home/End (g/G) and j/k move. Every binding has an id (`pipes.*`) and is in the
command palette (ctrl+p). The app opens this screen with F7 (`pipes.open`).

Anything that would run pip asks first, then shows pip at work in an `InstallScreen`;
declining leaves the function stored but switched off, with the reason shown here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from tuichat.ui.screens.install import (
    InstallOutcome,
    InstallScreen,
    LineSink,
    error_text,
)
from tuichat.ui.screens.prompts import ConfirmScreen, DialogScreen, TextPromptScreen

if TYPE_CHECKING:
    from tuichat.runtime.host import ModelListing
    from tuichat.runtime.library import FunctionLibrary, InstallPolicy, NewFunction
    from tuichat.runtime.watch import WatchReport
    from tuichat.store import FunctionRow, FunctionVersion
    from tuichat.ui.app import TuichatApp

T = TypeVar("T")

ON, OFF = "● on", "○ off"  # the switch reads without colour
EMPTY = "—"
# (key, header, width), in order; the table shows the optional ones only when the terminal is
# wide enough for them, so it never scrolls sideways (the detail panel shows everything).
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("state", "On", 5),
    ("id", "ID", 12),
    ("name", "Name", 16),
    ("type", "Type", 6),
    ("models", "Models", 16),
    ("status", "Status", 10),
)
OPTIONAL_COLUMNS: tuple[tuple[str, str, int], ...] = (("version", "Version", 7), ("author", "Author", 12))
DESCRIPTION_MIN = 16  # the description column takes what is left, when this much is
CELL_PADDING = 2  # DataTable pads each cell by one on each side


class Cancelled(Exception):
    """The user stopped a flow (cancelled pip); nothing more to say."""


def _fit(text: str, width: int) -> Text:
    """One line of plain text (never markup), cut with an ellipsis to `width`."""
    line = " ".join(str(text).split())
    if len(line) > width:
        line = line[: max(width - 1, 0)] + "…"
    return Text(line, no_wrap=True)


def first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def manifest_of(row: FunctionRow) -> dict[str, Any]:
    manifest = row.meta.get("manifest") if isinstance(row.meta, dict) else None
    return manifest if isinstance(manifest, dict) else {}


def missing_distribution(error: BaseException) -> tuple[str, str] | None:
    """(module, distribution) for a load error caused by an uninstalled, pip-installable module."""
    missing = getattr(error, "missing", None)
    distribution = getattr(missing, "distribution", None)
    if not distribution:
        return None
    return str(getattr(missing, "module", distribution)), str(distribution)


def _clock(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


class PipesTable(DataTable[Any]):
    """The functions table, with list keys: Home/End (and g/G) jump, j/k move."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]


class NewFunctionScreen(DialogScreen[tuple[str, str] | None]):
    """Ask for a new function's id and its template; dismisses with (id, template) or None."""

    DEFAULT_CSS = """
    NewFunctionScreen #new-template {
        height: auto;
        border: none;
        padding: 0;
        margin-top: 1;
        background: $surface;
    }
    NewFunctionScreen #new-template:focus > .option-list--option-highlighted {
        text-style: bold;
    }
    NewFunctionScreen #new-error {
        width: 1fr;
        color: $text-error;
        text-style: bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]
    AUTO_FOCUS = "#new-id"
    TEMPLATES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("pipe", "one model"),
        ("manifold", "several models from one function"),
    )

    def __init__(self, taken: set[str]) -> None:
        super().__init__()
        self.taken = taken
        self.template = "pipe"

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal, Vertical
        from textual.widgets import Button, Input, Label, OptionList

        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "New function"
            yield Label("Id (letters, digits, _), e.g. my_pipe:", markup=False)
            yield Input(placeholder="my_pipe", id="new-id")
            yield OptionList(*self._options(), id="new-template")
            yield Static("", id="new-error", markup=False)
            with Horizontal(classes="dialog--buttons"):
                yield Button("Create", id="create", variant="primary")
                yield Button("Cancel", id="cancel")
            yield self.keys_hint(("Enter", "create"), ("Tab ↑↓", "template"), ("Esc", "cancel"))

    def _options(self) -> list[Any]:
        from textual.widgets.option_list import Option

        # The chosen template is marked in text, so it shows without colour too.
        return [
            Option(Text(f"({'•' if name == self.template else ' '}) {name}: {what}"), id=name)
            for name, what in self.TEMPLATES
        ]

    def on_option_list_option_highlighted(self, event: Any) -> None:
        event.stop()
        if event.option.id and event.option.id != self.template:
            self.template = event.option.id
            for option in self._options():
                event.option_list.replace_option_prompt(option.id, option.prompt)

    def on_option_list_option_selected(self, event: Any) -> None:
        event.stop()
        self.action_create()

    def action_create(self) -> None:
        from textual.widgets import Input

        from tuichat.store.ids import validate_function_id

        raw = self.query_one("#new-id", Input).value.strip()
        try:
            if not raw:
                raise ValueError("Type an id for the new function first.")
            function_id = validate_function_id(raw)
            if function_id in self.taken:
                raise ValueError(f"'{function_id}' is taken: choose another id.")
        except ValueError as error:
            self.query_one("#new-error", Static).update(str(error))
            self.query_one("#new-id", Input).focus()
            self.app.bell()
            return
        self.dismiss((function_id, self.template))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Any) -> None:
        event.stop()
        self.action_create()

    def on_button_pressed(self, event: Any) -> None:
        if event.button.id == "create":
            self.action_create()
        else:
            self.action_cancel()


class PipesScreen(Screen[None]):
    """Manage stored functions (pipes, filters, actions): see, add, import, switch, link, delete."""

    TITLE = "Pipes"
    DEFAULT_CSS = """
    PipesScreen #pipes-table {
        height: 1fr;
        min-height: 4;
        scrollbar-size-vertical: 1;
    }
    PipesScreen #pipes-table > .datatable--cursor {
        text-style: bold;
    }
    PipesScreen.-no-color #pipes-table > .datatable--cursor {
        text-style: bold underline;
    }
    PipesScreen #pipe-detail {
        height: 10;
        border-top: solid $primary 50%;
        border-title-color: $text-muted;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    PipesScreen #pipe-detail:focus {
        border-top: solid $primary;
    }
    PipesScreen #pipe-detail Static {
        width: 1fr;
        height: auto;
    }
    PipesScreen #detail-title {
        text-style: bold;
    }
    PipesScreen #detail-description {
        color: $text-muted;
    }
    PipesScreen .-error {
        color: $text-error;
        text-style: bold;
    }
    PipesScreen .-warning {
        color: $text-warning;
    }
    PipesScreen .-ok {
        color: $text-success;
    }
    PipesScreen .-hidden {
        display: none;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="pipes.back"),
        Binding("e", "edit", "Edit", id="pipes.edit"),
        Binding("n", "new", "New", id="pipes.new"),
        Binding("t,space", "switch", "On/off", id="pipes.toggle"),
        Binding("f8,delete", "delete", "Delete", id="pipes.delete"),
        Binding("i", "import_file", "Import", id="pipes.import"),
        Binding("x", "export_json", "Export", id="pipes.export_json"),
        Binding("l", "link", "Link", id="pipes.link"),
        Binding("v", "valves", "Valves", id="pipes.valves", show=False),
        Binding("I,shift+i", "import_json", "Import JSON", id="pipes.import_json", show=False),
        Binding("d", "duplicate", "Duplicate", id="pipes.duplicate", show=False),
        Binding("u", "user_valves", "User valves", id="pipes.user_valves", show=False),
        Binding("r", "refresh", "Refresh", id="pipes.refresh", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[FunctionRow] = []
        self.models: dict[str, list[dict[str, Any]]] = {}  # function id -> models it offers
        self.listing_errors: dict[str, str] = {}
        self.reports: dict[str, WatchReport] = {}  # the last live-reload report, per function
        self.watched_versions: dict[str, FunctionVersion] = {}  # last version a watched file made
        self.problem: str | None = None  # the last action's error, shown above the details
        self.busy = False  # an action (and its dialogs) is running
        self.loaded = False  # the table has been filled at least once
        self._refresh_lock = asyncio.Lock()
        self._columns_width = 0

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield PipesTable(id="pipes-table", cursor_type="row", zebra_stripes=False)
        with VerticalScroll(id="pipe-detail") as detail:
            detail.border_title = "Details · more keys: v/u valves, d duplicate, I import JSON, r refresh"
            yield Static("", id="detail-problem", classes="-error -hidden", markup=False)
            yield Static("Loading functions…", id="detail-title", markup=False)
            yield Static("", id="detail-description", markup=False)
            yield Static("", id="detail-models", markup=False)
            yield Static("", id="detail-file", markup=False)
            yield Static("", id="detail-report", markup=False)
            yield Static("", id="detail-needs", markup=False)
            yield Static("", id="detail-error", classes="-error", markup=False)
        yield Footer(compact=True)

    @property
    def tuichat(self) -> TuichatApp:
        return self.app  # type: ignore[return-value]

    @property
    def library(self) -> FunctionLibrary:
        services = self.tuichat.services
        assert services is not None, "the runtime starts before the table is filled"
        return services.library

    def on_mount(self) -> None:
        self.set_class(self.app.no_color, "-no-color")
        self.query_one(DataTable).focus()
        self.run_worker(self._start(), group="pipes-start", exit_on_error=False)

    async def _start(self) -> None:
        app = self.tuichat
        try:
            await app.runtime()
        except Exception as error:  # noqa: BLE001 - the store is unusable: say so instead of crashing
            self._show_problem(f"The pipe runtime could not start: {error_text(error)}")
            return
        app.functions_changed.subscribe(self, self._functions_changed)
        app.watch_reported.subscribe(self, self._watch_reported)
        await self.refresh_table()

    # -- data ----------------------------------------------------------------------------
    @property
    def current(self) -> FunctionRow | None:
        """The highlighted function."""
        table = self.query_one(DataTable)
        if not self.rows or table.row_count == 0:
            return None
        index = min(max(table.cursor_row, 0), len(self.rows) - 1)
        return self.rows[index]

    def row(self, function_id: str) -> FunctionRow | None:
        return next((row for row in self.rows if row.id == function_id), None)

    async def refresh_table(self, select: str | None = None) -> None:
        """Read every function and the models they offer again, keeping the cursor on `select`
        (or on the function it was on)."""
        async with self._refresh_lock:
            library = self.library
            keep = select or (self.current.id if self.current else None)
            listing: ModelListing = await library.host.list_models()
            rows = await library.store.functions.list()  # after listing: a failed load switches one off
            self.models = {}
            for model in listing.models:
                fid = str(model.get("id", "")).split(".", 1)[0]
                self.models.setdefault(fid, []).append(model)
            self.listing_errors = {fid: error for fid, error in listing.errors.items() if error != "disabled"}
            self.watched_versions = {}
            for row in rows:
                if row.linked_path:
                    watched = next((v for v in await library.store.functions.versions(row.id) if v.origin == "watched"), None)
                    if watched is not None:
                        self.watched_versions[row.id] = watched
            self.rows = rows
            self._fill(keep)
            self.loaded = True
            count = sum(len(models) for models in self.models.values())
            self.sub_title = f"{len(rows)} function{'s' if len(rows) != 1 else ''} · {count} model{'s' if count != 1 else ''}"

    def columns_for(self, width: int) -> list[tuple[str, str, int]]:
        """The columns that fit `width` cells: the core ones, then optional ones while they fit,
        then the description in what is left."""
        columns = list(COLUMNS)
        used = sum(w + CELL_PADDING for _, _, w in columns)
        for column in OPTIONAL_COLUMNS:
            if used + column[2] + CELL_PADDING <= width:
                columns.append(column)
                used += column[2] + CELL_PADDING
        if width - used - CELL_PADDING >= DESCRIPTION_MIN:
            columns.append(("description", "Description", width - used - CELL_PADDING))
        elif width > used:
            # Not enough for a description: the models column takes what is left.
            index = next(i for i, (key, _, _) in enumerate(columns) if key == "models")
            key, label, size = columns[index]
            columns[index] = (key, label, size + width - used)
        return columns

    @work(group="pipes-load", exclusive=True, exit_on_error=False)
    async def _refresh_in_background(self) -> None:
        """Refresh after something changed elsewhere (a save in the editor, a watched file)."""
        await self.refresh_table()

    def _fill(self, keep: str | None) -> None:
        table = self.query_one(DataTable)
        # One cell is kept free for the vertical scrollbar of a long list.
        columns = self.columns_for(max(table.size.width or self.app.size.width, 40) - 1)
        index = table.cursor_row
        table.clear(columns=True)
        for key, label, width in columns:
            table.add_column(label, width=width, key=key)
        for row in self.rows:
            cells = self._cells(row)
            table.add_row(*(_fit(cells[key], width) for key, _, width in columns), key=row.id)
        self._columns_width = table.size.width
        if keep is not None and self.row(keep) is not None:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
        elif self.rows:  # it was deleted: stay where it was
            table.move_cursor(row=min(max(index, 0), len(self.rows) - 1), animate=False)
        self._show_detail()

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        table = self.query_one(DataTable)
        if self.loaded and table.size.width != self._columns_width:
            self._fill(self.current.id if self.current else None)

    def _cells(self, row: FunctionRow) -> dict[str, str]:
        manifest = manifest_of(row)
        return {
            "state": ON if row.is_active else OFF,
            "id": row.id,
            "name": row.name,
            "type": row.type,
            "models": self._models_cell(row),
            "status": self._status(row),
            "version": str(manifest.get("version") or EMPTY),
            "author": str(manifest.get("author") or ""),
            "description": str(row.meta.get("description") or manifest.get("description") or ""),
        }

    def _models_cell(self, row: FunctionRow) -> str:
        models = self.models.get(row.id, [])
        if not models:
            return EMPTY
        if len(models) == 1 and models[0]["id"] == row.id:
            return row.id
        return f"{len(models)}: " + " ".join("." + str(m["id"]).split(".", 1)[1] for m in models if "." in str(m["id"]))

    def _error(self, row: FunctionRow) -> str | None:
        return row.load_error or self.listing_errors.get(row.id)

    def _status(self, row: FunctionRow) -> str:
        error = self._error(row)
        report = self.reports.get(row.id)
        if error and error.startswith("requirements not installed"):
            return "needs pip"
        if error:
            return "error"
        version = self.watched_versions.get(row.id)
        if row.linked_path and (not report.ok if report is not None else version is not None and version.error):
            return "reload err"
        if row.linked_path:
            return "linked"
        return "ok" if row.is_active else "off"

    # -- the detail panel ----------------------------------------------------------------
    def _set(self, widget_id: str, text: str, *classes: str) -> None:
        widget = self.query_one(f"#{widget_id}", Static)
        widget.update(text)
        widget.set_class(not text, "-hidden")
        for name in ("-error", "-warning", "-ok"):
            widget.set_class(name in classes, name)

    def _show_problem(self, message: str | None) -> None:
        self.problem = message
        self._set("detail-problem", message or "", "-error")

    def _show_detail(self) -> None:
        row = self.current
        self._set("detail-problem", self.problem or "", "-error")
        if row is None:
            self._set("detail-title", "No functions yet. Press n to create one, i to import a .py file.")
            for widget_id in ("detail-description", "detail-models", "detail-file", "detail-report", "detail-needs", "detail-error"):
                self._set(widget_id, "")
            return
        manifest = manifest_of(row)
        title = [row.name, row.id, row.type, "on" if row.is_active else "off"]
        if manifest.get("version"):
            title.append(f"v{manifest['version']}")
        if manifest.get("author"):
            title.append(f"by {manifest['author']}")
        self._set("detail-title", "  ·  ".join(title))
        self._set("detail-description", str(row.meta.get("description") or manifest.get("description") or ""))
        self._set("detail-models", self._models_text(row))
        self._set("detail-file", self._file_text(row))
        report_text, report_class = self._report_text(row)
        self._set("detail-report", report_text, report_class)
        requirements = str(manifest.get("requirements") or "").strip()
        self._set("detail-needs", f"Needs:   {requirements}" if requirements else "")
        error = self._error(row)
        self._set("detail-error", f"Error:   {error.strip()}" if error else "", "-error")

    def _models_text(self, row: FunctionRow) -> str:
        models = self.models.get(row.id, [])
        if models:
            listed = ", ".join(
                str(m["id"]) if str(m.get("name") or m["id"]) == str(m["id"]) else f"{m['id']} ({m.get('name')})" for m in models
            )
            return f"Models:  {listed}"
        if row.type != "pipe":
            return f"Models:  none (a {row.type} works on other models' requests and replies)"
        if not row.is_active:
            return "Models:  none while it is off (space switches it on)"
        return "Models:  none listed"

    def _file_text(self, row: FunctionRow) -> str:
        if not row.linked_path:
            return "File:    not linked (l links it to a file that is then live-reloaded)"
        from tuichat.runtime.watch import describe_path

        watcher = self.tuichat.watcher
        watching = watcher is not None and row.id in watcher.watched
        return f"File:    {describe_path(row.linked_path)}  ({'watching for changes' if watching else 'not watched'})"

    def _report_text(self, row: FunctionRow) -> tuple[str, str]:
        report = self.reports.get(row.id)
        if report is not None:
            where = f" (line {report.line})" if report.line and f"line {report.line}" not in report.message else ""
            text = f"Reload:  {_clock(report.at)} {'ok' if report.ok else 'failed'}{where}: {report.message}"
            if not report.ok and report.detail:
                text += "\n" + report.detail.rstrip()
            return text, "-ok" if report.ok else "-error"
        version = self.watched_versions.get(row.id)
        if row.linked_path and version is not None:
            if version.error:
                why = first_line(version.error)
                if why == first_line(self._error(row)):
                    why = "the error below"
                return f"Reload:  {_clock(version.created_at)} refused: {why}", "-error"
            return f"Reload:  {_clock(version.created_at)} ok: saved from the file", "-ok"
        return "", ""

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_edit()

    # -- signals -------------------------------------------------------------------------
    async def _functions_changed(self, function_id: str) -> None:
        if self.loaded and not self.busy:
            self._refresh_in_background()

    def _watch_reported(self, report: WatchReport) -> None:
        self.reports[report.function_id] = report
        if self.loaded:
            self._refresh_in_background()

    # -- running actions -----------------------------------------------------------------
    def _run(self, what: str, flow: Callable[[], Awaitable[None]]) -> None:
        """Run one action's flow (its dialogs, the library call, the refresh) in a worker;
        one at a time, and any error ends up on screen instead of ending the app."""
        if self.busy or not self.loaded:
            self.app.bell()
            self.notify("One moment: still busy with the last action." if self.busy else "Still loading the functions…")
            return
        self.busy = True
        self._show_problem(None)
        self.run_worker(self._guard(what, flow), group="pipes-action", exit_on_error=False)

    async def _guard(self, what: str, flow: Callable[[], Awaitable[None]]) -> None:
        failed = False
        try:
            await flow()
        except Cancelled as stopped:
            failed = True
            if str(stopped):
                self.notify(str(stopped), severity="warning")
        except Exception as error:  # noqa: BLE001 - shown, never raised: bad input must not end the app
            failed = True
            self._fail(f"{what}: {error_text(error)}")
        finally:
            self.busy = False
        if failed and self.is_attached:
            # A failed enable or link may still have changed what is stored (its error).
            try:
                await self.refresh_table()
            except Exception as error:  # noqa: BLE001 - same: shown, not raised
                self._fail(f"Refreshing the list failed: {error_text(error)}")

    def _fail(self, message: str) -> None:
        self.notify(message, title="Pipes", severity="error", timeout=12)
        if self.is_attached:
            self._show_problem(message)

    def _changed(self, function_id: str) -> None:
        """Tell the rest of the app (the chat screen's model picker) that functions changed."""
        self.tuichat.functions_changed.publish(function_id)

    async def _ask(self, screen: Screen[Any]) -> Any:
        return await self.app.push_screen_wait(screen)

    async def _confirm(self, question: str, *, title: str, yes: str = "Yes", no: str = "No", destructive: bool = False) -> bool:
        return bool(await self._ask(ConfirmScreen(question, title=title, yes=yes, no=no, destructive=destructive)))

    async def _prompt(self, title: str, text: str = "", *, message: str | None = None, placeholder: str = "") -> str | None:
        answer = await self._ask(TextPromptScreen(title, text, message=message, placeholder=placeholder, allow_empty=False))
        return answer.strip() if isinstance(answer, str) and answer.strip() else None

    def _selected_or_bell(self) -> FunctionRow | None:
        row = self.current
        if row is None:
            self.app.bell()
            self.notify("No function is selected: press n to create one.")
        return row

    def _run_on_selected(
        self, what: Callable[[FunctionRow], str], flow: Callable[[FunctionRow], Awaitable[None]]
    ) -> None:
        """Run `flow` on the selected function (see `_run`); `what(row)` heads its error."""
        row = self._selected_or_bell()
        if row is not None:
            self._run(what(row), lambda: flow(row))

    async def _show_changed(self, function_id: str, message: str | None = None) -> None:
        """After a change to `function_id`: show it selected in the table, tell the rest of
        the app, and say what was done."""
        await self.refresh_table(select=function_id)
        self._changed(function_id)
        if message is not None:
            self.notify(message)

    # -- installs ------------------------------------------------------------------------
    async def _install(
        self, title: str, packages: list[str], job: Callable[[LineSink], Awaitable[T]], describe: Callable[[T], tuple[bool, str]]
    ) -> T:
        outcome: InstallOutcome[T] = await self._ask(InstallScreen(title, packages, job, describe=describe))
        if outcome.cancelled:
            raise Cancelled("Install cancelled: nothing was changed.")
        if outcome.error is not None:
            raise outcome.error
        return outcome.value  # type: ignore[return-value]

    async def _with_installs(
        self,
        title: str,
        missing: list[str],
        run: Callable[[InstallPolicy], Awaitable[T]],
        describe: Callable[[T], tuple[bool, str]],
    ) -> T:
        """Run `run` with pip allowed for `missing` (already agreed to); a load that then fails
        on an undeclared, uninstalled module offers to install that too, and runs again."""
        from tuichat.runtime.errors import FunctionLoadError
        from tuichat.runtime.library import InstallPolicy

        packages, install_missing, tried = list(missing), False, set(missing)
        while True:
            try:
                if not packages:
                    return await run(InstallPolicy(offline=True))

                def job(sink: LineSink, allow_missing: bool = install_missing) -> Awaitable[T]:
                    return run(InstallPolicy(install_missing=allow_missing, on_line=sink))

                return await self._install(title, packages, job, describe)
            except FunctionLoadError as error:
                found = missing_distribution(error)
                if found is None or found[1] in tried:
                    raise
                module, distribution = found
                tried.add(distribution)
                if not await self._confirm(
                    f"The code imports '{module}', which is not installed. It comes from the "
                    f"'{distribution}' distribution on the package index.\n\nInstall {distribution} with pip now?",
                    title="Missing module", yes="Install", no="Not now",
                ):
                    raise
                packages, install_missing = [distribution], True

    # -- actions -------------------------------------------------------------------------
    def action_back(self) -> None:
        if not self.busy:
            self.dismiss()

    def action_refresh(self) -> None:
        self._run("Refresh failed", self._refresh_flow)

    async def _refresh_flow(self) -> None:
        await self.refresh_table()
        self.notify("Refreshed.", timeout=2)

    def action_edit(self) -> None:
        row = self._selected_or_bell()
        if row is None or self.busy:
            return
        try:
            from tuichat.ui.screens.editor import (
                EditorScreen,  # written alongside; may be absent
            )
        except ImportError as error:
            self.notify(f"The pipe editor is not available in this build ({error}).", severity="warning")
            return

        def edited(_: object = None) -> None:
            # The editor publishes functions_changed itself on each save; just show what it did.
            if self.is_attached:
                self._refresh_in_background()

        self.app.push_screen(EditorScreen(row.id), edited)

    def action_new(self) -> None:
        self._run("Could not create the function", self._new_flow)

    async def _new_flow(self) -> None:
        answer = await self._ask(NewFunctionScreen({row.id for row in self.rows}))
        if answer is None:
            return
        function_id, template = answer
        row = await self.library.create(function_id, template=template)
        await self._show_changed(
            row.id, f"Created {row.type} '{row.id}' from the {template} template. Press e to edit it."
        )

    def action_switch(self) -> None:
        self._run_on_selected(
            lambda row: f"Could not switch '{row.id}' {'off' if row.is_active else 'on'}", self._toggle_flow
        )

    async def _toggle_flow(self, row: FunctionRow) -> None:
        library = self.library
        if row.is_active:
            await library.disable(row.id)
            await self._show_changed(row.id, f"'{row.id}' is off: its models are gone from the model picker.")
            return
        missing = await library.missing_for(row.content)
        if missing and not await self._confirm(
            f"'{row.id}' needs packages that are not installed:\n\n  {', '.join(missing)}\n\n"
            "Install them with pip and switch it on?",
            title="Install requirements?", yes="Install", no="Not now",
        ):
            self.notify(f"'{row.id}' stays off until {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} installed.")
            return
        try:
            enabled = await self._with_installs(
                f"Switching on '{row.id}'", missing, lambda policy: library.enable(row.id, policy),
                lambda r: (True, f"'{r.id}' is on."),
            )
        finally:
            self._changed(row.id)
        await self.refresh_table(select=enabled.id)
        self.notify(f"'{enabled.id}' is on.")

    def action_delete(self) -> None:
        self._run_on_selected(lambda row: f"Could not delete '{row.id}'", self._delete_flow)

    async def _delete_flow(self, row: FunctionRow) -> None:
        linked = f"\n\nIts file {row.linked_path} stays on disk and is no longer watched." if row.linked_path else ""
        if not await self._confirm(
            f"Delete the function '{row.id}' ({row.name}) with its valves and saved versions? "
            f"This cannot be undone.{linked}",
            title="Delete function", yes="Delete", no="Keep", destructive=True,
        ):
            return
        await self.library.remove(row.id)
        if row.linked_path and self.tuichat.watcher is not None:
            await self.tuichat.watcher.refresh()
        self.reports.pop(row.id, None)
        await self.refresh_table()
        self._changed(row.id)
        self.notify(f"Deleted '{row.id}'.")

    def action_duplicate(self) -> None:
        self._run_on_selected(lambda row: f"Could not duplicate '{row.id}'", self._duplicate_flow)

    async def _duplicate_flow(self, row: FunctionRow) -> None:
        taken = {r.id for r in self.rows}
        suggestion, number = f"{row.id}_clone", 1
        while suggestion in taken:
            number += 1
            suggestion = f"{row.id}_clone_{number}"
        new_id = await self._prompt(
            f"Duplicate '{row.id}'", suggestion, message="Id of the copy (its valves are not copied):"
        )
        if new_id is None:
            return
        copy = await self.library.duplicate(row.id, new_id)
        await self._show_changed(copy.id, f"Copied '{row.id}' to '{copy.id}'.")

    def action_valves(self) -> None:
        self._open_valves(user=False)

    def action_user_valves(self) -> None:
        self._open_valves(user=True)

    def _open_valves(self, *, user: bool) -> None:
        self._run_on_selected(
            lambda row: f"Could not open the {'user ' if user else ''}valves of '{row.id}'",
            lambda row: self._valves_flow(row, user),
        )

    async def _valves_flow(self, row: FunctionRow, user: bool) -> None:
        try:
            from tuichat.ui.screens.valves_form import (
                ValvesScreen,  # written alongside; may be absent
            )
        except ImportError as error:
            self.notify(f"The valves form is not available in this build ({error}).", severity="warning")
            return
        user_id = (await self.library.store.users.local())["id"] if user else None
        stored = await self._ask(ValvesScreen(self.library, row.id, user_id=user_id))
        if stored is not None:
            self._changed(row.id)
            self.notify(f"{'Your user valves' if user else 'Valves'} for '{row.id}' saved; the next message uses them.")

    # -- import and export ---------------------------------------------------------------
    def action_import_file(self) -> None:
        self._run("Import failed", self._import_file_flow)

    async def _import_file_flow(self) -> None:
        from tuichat.runtime.errors import FunctionLoadError
        from tuichat.runtime.library import InstallPolicy, decode_source
        from tuichat.store import function_id_from_filename

        answer = await self._prompt(
            "Import a pipe (.py)", message="Path of the Python file (~ works):", placeholder="~/pipes/my_pipe.py"
        )
        if answer is None:
            return
        path = Path(answer).expanduser()
        content = decode_source(await asyncio.to_thread(_read, path), str(path))
        library = self.library
        function_id = function_id_from_filename(path.stem)
        replace = False
        if self.row(function_id) is not None:
            replace = await self._confirm(
                f"A function '{function_id}' is already stored. Replace its code with {path.name}? "
                "(Its valves are kept, and the old code stays in its versions.)",
                title="Replace?", yes="Replace", no="Use another id",
            )
            if not replace:
                other = await self._prompt("Import under another id", f"{function_id}_2", message="Id for the imported function:")
                if other is None:
                    return
                function_id = other
        missing = await library.missing_for(content)
        if missing and not await self._confirm(
            f"{path.name} needs packages that are not installed:\n\n  {', '.join(missing)}\n\n"
            "Install them with pip now? If not, it is stored switched off until they are.",
            title="Install requirements?", yes="Install", no="Not now",
        ):
            added = await library.add(
                content, function_id=function_id, stem=path.stem, replace=replace,
                policy=InstallPolicy(offline=True), source=str(path),
            )
            await self._after_add(added, path)
            return

        def run(policy: InstallPolicy) -> Awaitable[NewFunction]:
            return library.add(content, function_id=function_id, stem=path.stem, replace=replace, policy=policy, source=str(path))

        try:
            added = await self._with_installs(f"Installing for {path.name}", missing, run, _describe_added)
        except FunctionLoadError as error:
            detail = f"\n{error.detail.rstrip()}" if error.detail else ""
            raise FunctionLoadError(error.function_id, f"{path}: {error}. Nothing was stored.{detail}") from error
        await self._after_add(added, path)

    async def _after_add(self, added: NewFunction, path: Path) -> None:
        row = added.row
        await self._show_changed(row.id)
        verb = "Replaced" if added.replaced else "Imported"
        if added.problem:
            self.notify(
                f"{verb} '{row.id}' from {path.name}, switched off: {added.problem}. "
                "Press space to install what it needs and switch it on.",
                severity="warning", timeout=10,
            )
            return
        models = self.models.get(row.id, [])
        offers = f"; models: {', '.join(str(m['id']) for m in models)}" if models else ""
        self.notify(f"{verb} {row.type} '{row.id}' from {path.name}{offers}.")

    def action_import_json(self) -> None:
        self._run("Import failed", self._import_json_flow)

    async def _import_json_flow(self) -> None:
        from tuichat.runtime.library import (
            FunctionExists,
            InstallPolicy,
            NewFunction,
            decode_source,
        )

        answer = await self._prompt(
            "Import Open WebUI functions (JSON)",
            message="Path of a functions export (Admin › Functions › Export in Open WebUI):",
            placeholder="~/Downloads/functions-export.json",
        )
        if answer is None:
            return
        path = Path(answer).expanduser()
        text = decode_source(await asyncio.to_thread(_read, path), str(path))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
        if not isinstance(data, list):
            raise TypeError(
                f"{path} is not an Open WebUI functions export: that is a JSON list of functions, "
                f"and this file holds a JSON {type(data).__name__.replace('dict', 'object')}"
            )
        library = self.library
        stored = {row.id for row in self.rows}
        items = [item for item in data if isinstance(item, dict)]
        taken = [str(item["id"]) for item in items if isinstance(item.get("id"), str) and item["id"].lower() in stored]
        replace = bool(taken) and await self._confirm(
            f"{len(taken)} of these {'is' if len(taken) == 1 else 'are'} already stored: {', '.join(taken)}.\n\n"
            "Replace them with the imported code? (If not, they are skipped.)",
            title="Replace?", yes="Replace", no="Skip them",
        )
        missing: list[str] = []
        for item in items:
            if isinstance(item.get("content"), str) and (replace or str(item.get("id", "")).lower() not in stored):
                try:
                    missing += [req for req in await library.missing_for(item["content"]) if req not in missing]
                except ValueError:  # RequirementError: the import itself reports it for that function
                    pass
        install = bool(missing) and await self._confirm(
            f"The imported functions need packages that are not installed:\n\n  {', '.join(missing)}\n\n"
            "Install them with pip now? If not, the functions that need them are stored switched off.",
            title="Install requirements?", yes="Install", no="Not now",
        )

        def run(policy: InstallPolicy) -> Awaitable[list[tuple[str, NewFunction | Exception]]]:
            return library.import_all(data, replace=replace, policy=policy)

        if install:
            results = await self._with_installs(f"Installing for {path.name}", missing, run, _describe_imported)
        else:
            results = await run(InstallPolicy(offline=True))
        added = [outcome for _, outcome in results if isinstance(outcome, NewFunction)]
        skipped = [label for label, outcome in results if isinstance(outcome, FunctionExists)]
        failed = [(label, outcome) for label, outcome in results if isinstance(outcome, Exception) and not isinstance(outcome, FunctionExists)]
        off = [outcome for outcome in added if outcome.problem]
        await self.refresh_table(select=added[0].row.id if added else None)
        for outcome in added:
            self._changed(outcome.row.id)
        parts = [f"Imported {len(added)} function{'s' if len(added) != 1 else ''} from {path.name}"]
        if off:
            parts.append(f"switched off until their packages are installed: {', '.join(o.row.id for o in off)}")
        if skipped:
            parts.append(f"skipped (already stored): {', '.join(skipped)}")
        message = "; ".join(parts) + "."
        if failed:
            problems = "\n".join(f"  {label}: {error_text(error)}" for label, error in failed)
            self._fail(f"{message}\nNot imported:\n{problems}")
        else:
            self.notify(message, severity="warning" if off else "information", timeout=8)

    def action_export_json(self) -> None:
        self._run("Export failed", self._export_flow)

    async def _export_flow(self) -> None:
        default = f"./functions-export-{dt.date.today().isoformat()}.json"
        answer = await self._prompt(
            "Export all functions (Open WebUI JSON)", default,
            message="Write every function, as Open WebUI's functions export, to:",
        )
        if answer is None:
            return
        path = Path(answer).expanduser()
        if path.is_dir():
            raise ValueError(f"{path} is a folder: give a file name, e.g. {path / Path(default).name}")
        if path.exists() and not await self._confirm(
            f"{path} already exists. Overwrite it?", title="Overwrite?", yes="Overwrite", no="Cancel", destructive=True
        ):
            return
        functions = await self.library.export_all()
        text = json.dumps(functions, ensure_ascii=False, indent=2) + "\n"
        try:
            await asyncio.to_thread(path.write_text, text, encoding="utf-8")
        except OSError as error:
            raise ValueError(f"cannot write {path}: {error.strerror or error}. Pick another path.") from None
        self.notify(f"Exported {len(functions)} function{'s' if len(functions) != 1 else ''} to {path.resolve()}")

    # -- linking to a file ---------------------------------------------------------------
    def action_link(self) -> None:
        self._run_on_selected(lambda row: f"Could not link '{row.id}'", self._link_flow)

    async def _link_flow(self, row: FunctionRow) -> None:
        from tuichat.runtime.watch import link_file

        app, library = self.tuichat, self.library
        if row.linked_path:
            if not await self._confirm(
                f"'{row.id}' is linked to {row.linked_path}: each save of that file reloads it.\n\n"
                "Unlink it? (The file stays; the function keeps its current code.)",
                title="Unlink?", yes="Unlink", no="Keep", destructive=False,
            ):
                return
            await library.link(row.id, None)
            if app.watcher is not None:
                await app.watcher.refresh()
            self.reports.pop(row.id, None)
            await self._show_changed(row.id, f"'{row.id}' is no longer linked to a file.")
            return
        answer = await self._prompt(
            f"Link '{row.id}' to a file", f"./{row.id}.py",
            message="Keep this function in step with a file: each save of it reloads the function.",
        )
        if answer is None:
            return
        path = Path(answer).expanduser().resolve()
        if path.is_dir():
            raise ValueError(f"{path} is a folder: give a .py file name, e.g. {path / (row.id + '.py')}")
        if not path.exists():
            if not await self._confirm(
                f"{path} does not exist. Create it with the current code of '{row.id}' and link it?",
                title="Create file?", yes="Create", no="Cancel",
            ):
                return
            try:
                await asyncio.to_thread(path.write_text, row.content, encoding="utf-8")
            except OSError as error:
                raise ValueError(f"cannot write {path}: {error.strerror or error}") from None
        else:
            try:
                current = (await asyncio.to_thread(path.read_bytes)).decode("utf-8", errors="replace")
            except OSError as error:
                raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
            if current.removeprefix("\ufeff") != row.content and not await self._confirm(
                f"{path.name} differs from the stored code of '{row.id}'. Linking loads the file's code into "
                "'{id}' now (the stored code stays in its versions). Link it?".replace("{id}", row.id),
                title="Use the file's code?", yes="Link", no="Cancel",
            ):
                return
        linked, report = await link_file(library, path, row.id)
        if app.watcher is not None:
            await app.watcher.refresh()
        self.reports[linked.id] = report
        if report.message.startswith("unchanged"):
            self.notify(f"Linked '{linked.id}' to {path}: saving the file reloads it.")
        else:
            app.report_watch(report)
        await self._show_changed(linked.id)


def _read(path: Path) -> bytes:
    """A file's bytes, or an error that names the path and says what is wrong."""
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist. Check the path (~ is your home folder).") from None
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None


def _describe_added(added: NewFunction) -> tuple[bool, str]:
    if added.problem:
        return False, f"'{added.row.id}' is stored but switched off: {added.problem}"
    installed = f"Installed {', '.join(added.installed)}; " if added.installed else ""
    return True, f"{installed}'{added.row.id}' is loaded and on."


def _describe_imported(results: list[tuple[str, Any]]) -> tuple[bool, str]:
    failed = [label for label, outcome in results if isinstance(outcome, Exception) or getattr(outcome, "problem", None)]
    if failed:
        return False, f"Imported, but with problems: {', '.join(failed)} (see the pipes list)."
    return True, f"Imported {len(results)} function{'s' if len(results) != 1 else ''}."
