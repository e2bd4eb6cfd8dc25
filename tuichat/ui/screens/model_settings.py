"""A model's settings row (Open WebUI's `model` table), as its model editor edits it: the
name, the filters attached (`meta.filterIds`: they run for this model beside the global
ones), the tools attached (`meta.toolIds`: selected in every chat of the model), a default
system prompt (`params.system`, put before the chat's own when the pipe is
called) and default params (a chat's own params win). Reached from the model picker (F4) and
the pipes screen (m, on a pipe or a manifold's sub-model).

Saving follows `tuichat models set` (`tuichat.runtime.model_settings`): other keys of the
row (`meta.capabilities`, ...) are kept, as are attached tool ids no longer stored, and a bad value is shown at its field, nothing saved.

Keys: Tab moves, space attaches or detaches the highlighted filter or tool, F2 or ctrl+j saves,
Escape cancels. Dismisses with the saved row's id, or None."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, SelectionList, Static, TextArea
from textual.widgets.selection_list import Selection

from tuichat.runtime.filter_facts import FilterFacts, read_facts
from tuichat.runtime.model_settings import ModelSettingsError, current_row, save_row
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.screens.params_form import ParamsForm
from tuichat.ui.screens.prompts import DialogScreen, stylesheet

if TYPE_CHECKING:
    from tuichat.runtime.host import PipeHost
    from tuichat.store import FunctionRow, Store


def filter_label(row: FunctionRow, facts: FilterFacts | None) -> str:
    """`Web Search (web_search) · toggle · global · p5 · off`."""
    name = neutralise(row.name)
    parts = [name if name == row.id else f"{name} ({row.id})"]
    if facts is not None and facts.toggle:
        parts.append("toggle")
    if row.is_global:
        parts.append("global")
    parts.append(f"p{facts.priority_text}" if facts is not None else "p?")
    if not row.is_active:
        parts.append("off")
    return " · ".join(parts)


def tool_label(row: FunctionRow) -> str:
    """`Weather (weather) · off`."""
    name = neutralise(row.name)
    return (name if name == row.id else f"{name} ({row.id})") + ("" if row.is_active else " · off")


class ModelSettingsScreen(DialogScreen[str | None]):
    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("f2,ctrl+j", "save", "Save", id="model_settings.save"),
    ]

    def __init__(self, store: Store, host: PipeHost, model_id: str, *, model_name: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.host = host
        self.model_id = model_id
        self.model_name = model_name or model_id
        self.row: dict[str, Any] | None = None  # the stored row (or a new one), once read
        self.filters: list[FunctionRow] = []
        self.tools: list[FunctionRow] = []
        self.missing_tools: list[str] = []  # attached, not stored: kept (Open WebUI skips them)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = f"Model settings · {neutralise(self.model_id)}"
            with VerticalScroll(id="model-fields", can_focus=False):
                yield Static("Loading…", id="model-loading", markup=False)
            yield Static("", id="model-error", markup=False)
            with Horizontal(classes="dialog--buttons"):
                yield Button("Save", id="save", variant="primary", compact=True, disabled=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield self.keys_hint(("Tab", "next"), ("Space", "attach"), ("F2/ctrl+j", "save"), ("Esc", "cancel"))

    def on_mount(self) -> None:
        super().on_mount()
        self._load()

    @work(group="model-settings", exit_on_error=False)
    async def _load(self) -> None:
        row = await current_row(self.store, self.model_id)
        if await self.store.model_settings.get(self.model_id) is None:
            row["name"] = self.model_name  # a new row is named as the model list names it
        filters = await self.store.functions.list(type="filter")
        facts = await read_facts(self.host, filters)
        tools = await self.store.functions.list(type="tool")
        self.row, self.filters, self.tools = row, filters, tools
        fields = self.query_one("#model-fields", VerticalScroll)
        await self.query_one("#model-loading").remove()
        attached = [str(i) for i in (row.get("meta") or {}).get("filterIds") or []]
        tool_ids = [str(i) for i in (row.get("meta") or {}).get("toolIds") or []]
        self.missing_tools = [tid for tid in tool_ids if tid not in {t.id for t in tools}]
        params = dict(row.get("params") or {})
        system = params.pop("system", None)
        with_filters: list[Any] = [
            SelectionList[str](*(Selection(filter_label(f, facts.get(f.id)), f.id, f.id in attached) for f in filters), id="model-filters", compact=True)
            if filters
            else Static("No filters are stored: add one on the pipes screen (i) or with `tuichat pipes add FILE`.", markup=False)
        ]  # fmt: skip
        with_tools: list[Any] = [
            SelectionList[str](*(Selection(tool_label(t), t.id, t.id in tool_ids) for t in tools), id="model-tools", compact=True)
            if tools
            else Static("No tools are stored: add one with `tuichat tools add FILE`.", markup=False)
        ]  # fmt: skip
        await fields.mount_all([
            Horizontal(Label("Name", classes="model--label"), Input(str(row.get("name") or ""), id="model-name", compact=True), classes="model--row"),
            Label("Filters attached (global ones run for every model anyway)", classes="model--heading"),
            *with_filters,
            Label("Tools attached (selected in every chat of this model)", classes="model--heading"),
            *with_tools,
            Label("Default system prompt (before a chat's own)", classes="model--heading"),
            TextArea(system if isinstance(system, str) else "", id="model-system", soft_wrap=True, tab_behavior="focus", show_line_numbers=False, compact=True),
            Label("Default params (a chat's own win)", classes="model--heading"),
            ParamsForm(params, id="model-params"),
        ])  # fmt: skip
        self.query_one("#save", Button).disabled = False
        self.query_one("#model-name", Input).focus()

    def action_save(self) -> None:
        if self.row is None:
            return
        params, errors = self.query_one(ParamsForm).read()
        if errors:
            self._error("Not saved: fix the fields marked below.")
            return
        system = self.query_one("#model-system", TextArea).text.strip()
        if system:
            params["system"] = system
        chosen = self.query_one("#model-filters", SelectionList).selected if self.filters else []
        filter_ids = [f.id for f in self.filters if f.id in chosen]
        picked = self.query_one("#model-tools", SelectionList).selected if self.tools else []
        tool_ids = [t.id for t in self.tools if t.id in picked] + self.missing_tools
        row = {**self.row, "name": self.query_one("#model-name", Input).value.strip() or self.model_id, "params": params}
        self._save(row, filter_ids, tool_ids)

    @work(group="model-settings", exclusive=True, exit_on_error=False)
    async def _save(self, row: dict[str, Any], filter_ids: list[str], tool_ids: list[str]) -> None:
        try:
            had = "toolIds" in (row.get("meta") or {})  # a row without tools is left without the key
            saved = await save_row(self.store, self.model_id, row, filters=filter_ids, tools=tool_ids if tool_ids or had else None)
        except ModelSettingsError as error:
            self._error(f"Not saved: {error}")
            return
        self.notify(
            f"Saved the settings of '{neutralise(saved.id)}' (filters: {', '.join(saved.filter_ids) or 'none'}; "
            f"tools: {', '.join(saved.tool_ids) or 'none'}).", markup=False
        )
        self.dismiss(saved.id)

    def _error(self, text: str) -> None:
        self.app.bell()
        error = self.query_one("#model-error", Static)
        error.update(text)
        error.set_class(bool(text), "-shown")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
