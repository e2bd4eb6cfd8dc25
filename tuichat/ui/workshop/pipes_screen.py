"""The pipes screen (F7): every stored function, its models and problems, and what you can do to it.

A table lists each function (`FunctionsTable`) and a panel under it shows the highlighted one
in full (`FunctionDetail`), with the error of the last action that failed. The screen composes
the two and routes: keys start workflows (`tuichat.ui.workshop.workflows`), whose results come
back as Messages that refresh the table and say what happened.

Keys: Enter/e edit · n new from a template · t/space switch on or off · i import a .py file ·
I import an Open WebUI functions export (JSON) · x export them all · d duplicate · F8/Delete
delete · v valves · u your user valves · a a filter global or not · m a pipe's model settings
(its attached filters, default system prompt and params) · l link to a file (or unlink) · o the host log (what
the pipe process printed that no reply claimed) · r refresh · Escape back;
in the table Home/End (g/G) and j/k move. Every binding has an id (`pipes.*`); the footer and
the command palette (ctrl+p) offer only what applies to the highlighted function now.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, ClassVar

from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import DataTable, Header

from tuichat.store import FunctionRow
from tuichat.ui.widgets.footer import Footer
from tuichat.ui.workshop import workflows
from tuichat.ui.workshop.base import Flow, WorkshopScreen
from tuichat.ui.workshop.catalog import Catalog
from tuichat.ui.workshop.editor_screen import EditorScreen
from tuichat.ui.workshop.function_detail import FunctionDetail
from tuichat.ui.workshop.functions_table import FunctionsTable
from tuichat.ui.workshop.messages import FunctionDeleted, FunctionLinked, FunctionsChanged, WorkflowDone

if TYPE_CHECKING:
    from tuichat.runtime.watch import WatchReport

# What needs a function to work on; the rest (new, import, export, refresh, back) does not.
ON_A_FUNCTION = frozenset({"edit", "switch", "delete", "valves", "user_valves", "duplicate", "link", "global", "model_settings"})


class PipesScreen(WorkshopScreen[None]):
    """Manage stored functions (pipes, filters, actions): see, add, import, switch, link, delete."""

    TITLE = "Pipes"
    CSS_PATH = "pipes_screen.tcss"
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
        Binding("o", "host_log", "Host log", id="pipes.host_log", show=False),
        Binding("a", "global", "Global", id="pipes.global", show=False),
        Binding("m", "model_settings", "Model settings", id="pipes.model_settings", show=False),
    ]

    loaded: var[bool] = var(False, bindings=True)
    """The table has been filled at least once."""
    current: var[FunctionRow | None] = var(None, bindings=True, always_update=True)
    """The highlighted function, as last read."""
    problem: var[str | None] = var(None)
    """The last action's error, shown above the details until the next action."""

    table = getters.query_one("#pipes-table", FunctionsTable)
    detail = getters.query_one("#pipe-detail", FunctionDetail)

    def __init__(self) -> None:
        super().__init__()
        self.catalog = Catalog()
        self.reports: dict[str, WatchReport] = {}  # the last live-reload report, per function
        self._refresh_lock = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield Header()
        yield FunctionsTable(id="pipes-table")
        yield FunctionDetail(id="pipe-detail")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_class(self.app.no_color, "-no-color")
        self.table.focus()
        self._start()

    @work(group="pipes-start", exit_on_error=False, description="The pipe runtime could not start")
    async def _start(self) -> None:
        try:
            await self.app.runtime()
            self.app.functions_changed.subscribe(self, self._functions_changed)
            self.app.watch_reported.subscribe(self, self._watch_reported)
            await self.refresh_catalog()
        finally:
            self.app.keys.screen_ready()  # keys typed meanwhile were held (see takes_keys)

    @property
    def takes_keys(self) -> bool:
        """Keys typed before the list is shown wait for it (key_gate): they are about its rows."""
        return self.loaded

    # -- the table and the details ---------------------------------------------------------
    async def refresh_catalog(self, select: str | None = None) -> None:
        """Read every function and the models they offer again, keeping the cursor on `select`
        (or on the function it was on)."""
        async with self._refresh_lock:
            keep = select or (self.current.id if self.current else None)
            self.catalog = await Catalog.read(await self.library(), self.reports)
            self.table.show(self.catalog, keep)
            self.sub_title = self.catalog.summary
            self.loaded = True
            self.current = self.catalog.row(self.table.highlighted_id)

    @work(group="pipes-load", exclusive=True, exit_on_error=False, description="Refreshing the list failed")
    async def _refresh_in_background(self) -> None:
        """Refresh after something changed elsewhere (a save in the editor, a watched file)."""
        await self.refresh_catalog()

    def watch_current(self, row: FunctionRow | None) -> None:
        if not self.loaded:
            return
        watcher = self.app.watcher
        self.detail.show(row, self.catalog, watched=row is not None and watcher is not None and row.id in watcher.watched)

    def watch_problem(self, problem: str | None) -> None:
        self.detail.show_problem(problem)

    @on(DataTable.RowHighlighted, "#pipes-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.current = self.catalog.row(str(event.row_key.value))

    @on(DataTable.RowSelected, "#pipes-table")
    def _selected(self) -> None:
        self.action_edit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what applies now: nothing on a function when there is none, and every key
        shown but inactive while an action runs."""
        if action == "host_log":
            return True  # a log to read, never busy
        if action in ON_A_FUNCTION and self.current is None:
            return False
        if action == "global" and self.current is not None and self.current.type != "filter":
            return False
        if action == "model_settings" and self.current is not None and not self.catalog.models.get(self.current.id):
            return False  # a filter, or a pipe that lists no model now
        if action != "back" and not self.loaded:
            return False
        return None if self.busy else True

    # -- what others tell us ------------------------------------------------------------------
    def _functions_changed(self, function_id: str) -> None:
        if self.loaded and not self.busy:
            self._refresh_in_background()

    def _watch_reported(self, report: WatchReport) -> None:
        self.reports[report.function_id] = report
        if self.loaded:
            self._refresh_in_background()

    # -- workflows and their results ------------------------------------------------------------
    def run_workflow(self, what: str, flow: Flow) -> bool:
        if not super().run_workflow(what, flow):
            return False
        self.problem = None
        return True

    def _on_current(self, what: str, flow: workflows.RowFlow) -> None:
        """Run `flow` on the highlighted function; `what` heads its error."""
        row = self.current
        if row is None:
            self.app.bell()
            self.notify("No function is selected: press n to create one.")
            return
        self.run_workflow(what.format(id=row.id), lambda: flow(self, row))

    @on(FunctionDeleted)
    def _deleted(self, event: FunctionDeleted) -> None:
        self.reports.pop(event.deleted, None)

    @on(FunctionLinked)
    def _linked(self, event: FunctionLinked) -> None:
        if event.report is None:
            self.reports.pop(event.function_id or "", None)
        else:
            self.reports[event.report.function_id] = event.report

    @on(WorkflowDone)
    async def _done(self, event: WorkflowDone) -> None:
        """Any workflow's result: show what changed, and say what was done."""
        if isinstance(event, FunctionsChanged):
            await self.refresh_catalog(select=event.function_id)
        note = event.note
        if not note:
            return
        models = self.catalog.models.get(event.function_id or "") if isinstance(event, FunctionsChanged) else None
        if isinstance(event, FunctionsChanged) and event.and_models and models:
            note = f"{note.removesuffix('.')}; models: {', '.join(str(m['id']) for m in models)}."
        if event.severity == "error":
            self.notify(note, title=self.FAILURE_TITLE, severity="error", timeout=12)
            self.problem = note
        else:
            self.notify(note, severity=event.severity, timeout=event.timeout or 5)

    def show_failure(self, message: str, error: BaseException) -> None:
        self.problem = message

    def workflow_ended(self, ok: bool) -> None:
        if not ok and self.is_attached:  # a failed enable or link may still have stored its error
            self._refresh_in_background()

    # -- actions ------------------------------------------------------------------------------
    def action_back(self) -> None:
        self.dismiss()

    def action_host_log(self) -> None:
        from tuichat.ui.workshop.host_log_screen import HostLogScreen

        services = self.app.services
        if services is None:
            self.notify("The pipe process has not started yet.")
            return
        self.app.push_screen(HostLogScreen(services.host.log))

    def action_refresh(self) -> None:
        async def refreshed() -> FunctionsChanged:
            return FunctionsChanged(None, "Refreshed.", timeout=2)

        self.run_workflow("Refresh failed", refreshed)

    def action_edit(self) -> None:
        row = self.current
        if row is None or self.busy:
            return

        def edited(_: object = None) -> None:
            # The editor publishes functions_changed itself on each save; show what it did.
            if self.is_attached:
                self._refresh_in_background()

        self.app.push_screen(EditorScreen(row.id), edited)

    def action_new(self) -> None:
        self.run_workflow("Could not create the function", lambda: workflows.create(self, self.catalog.ids))

    def action_switch(self) -> None:
        row = self.current
        way = "off" if row is not None and row.is_active else "on"
        self._on_current(f"Could not switch '{{id}}' {way}", workflows.switch)

    def action_delete(self) -> None:
        self._on_current("Could not delete '{id}'", workflows.delete)

    def action_duplicate(self) -> None:
        self._on_current("Could not duplicate '{id}'", lambda screen, row: workflows.duplicate(screen, row, self.catalog.ids))

    def action_valves(self) -> None:
        self._on_current("Could not open the valves of '{id}'", lambda screen, row: workflows.edit_valves(screen, row, user=False))

    def action_user_valves(self) -> None:
        self._on_current("Could not open the user valves of '{id}'", lambda screen, row: workflows.edit_valves(screen, row, user=True))

    def action_global(self) -> None:
        self._on_current("Could not change '{id}'", workflows.switch_global)

    def action_model_settings(self) -> None:
        """The settings row of the pipe's model (a manifold: of the sub-model picked first)."""
        from tuichat.runtime.listing import ModelListing
        from tuichat.runtime.models import FunctionModels
        from tuichat.ui.screens.model_picker import ModelPicker
        from tuichat.ui.screens.model_settings import ModelSettingsScreen

        row, services = self.current, self.app.services
        models = self.catalog.models.get(row.id, []) if row is not None else []
        if row is None or services is None or not models:
            self.app.bell()
            return
        names = {str(m["id"]): str(m.get("name") or m["id"]) for m in models}

        def open_settings(model_id: str | None) -> None:
            if model_id is not None:
                screen = ModelSettingsScreen(services.store, services.host, model_id, model_name=names.get(model_id))
                self.app.push_screen(screen, lambda saved: self._refresh_in_background() if saved else None)

        if len(models) == 1:
            open_settings(str(models[0]["id"]))
        else:
            self.app.push_screen(ModelPicker(ModelListing(models, [FunctionModels(row.id, models)]), None), open_settings)

    def action_link(self) -> None:
        self._on_current("Could not link '{id}'", workflows.link)

    def action_import_file(self) -> None:
        self.run_workflow("Import failed", lambda: workflows.import_file(self, self.catalog.ids))

    def action_import_json(self) -> None:
        self.run_workflow("Import failed", lambda: workflows.import_export(self))

    def action_export_json(self) -> None:
        self.run_workflow("Export failed", lambda: workflows.export_all(self))
