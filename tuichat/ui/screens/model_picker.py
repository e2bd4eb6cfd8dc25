"""Pick a model: type to filter (fuzzy), arrows to move, Enter to choose, Escape to cancel.

Models are grouped under the function that serves them. Functions that could not list their
models (failed to load, `pipes()` raised, disabled) are shown greyed with the first line of
their error, so a missing model is explained rather than just absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.geometry import Spacing
from textual.visual import Padding
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tuichat.runtime.reply.present import first_line, pipe_id_of
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.screens.prompts import DialogScreen, stylesheet

if TYPE_CHECKING:
    from tuichat.runtime.host import ModelListing

ADD_PIPE_HINT = "Add a pipe with:  tuichat pipes add FILE"
INDENT = Spacing(0, 0, 0, 2)  # models and errors sit under their function, wrapped lines too
ERROR_WIDTH = 200  # a failed function's error: its first line, wrapped, cut only when very long


@dataclass
class _Model:
    model_id: str
    name: str  # as shown: a pipe's `pipes()` wrote it (see `untrusted`)

    @property
    def text(self) -> str:
        """What the filter matches against, and what is shown: the name, then the id."""
        shown_id = neutralise(self.model_id)
        return self.name if self.name == shown_id else f"{self.name}  {shown_id}"


@dataclass
class _Group:
    function_id: str
    models: list[_Model] = field(default_factory=list)
    error: str | None = None


def _groups(listing: ModelListing) -> list[_Group]:
    """Models by function, in listing order; functions with nothing to pick come last."""
    groups: dict[str, _Group] = {}
    for function in listing.functions:
        groups.setdefault(function.function_id, _Group(function.function_id))
    for model in listing.models:
        model_id = str(model.get("id", ""))
        name = neutralise(str(model.get("name") or model_id))
        groups.setdefault(pipe_id_of(model_id), _Group(pipe_id_of(model_id))).models.append(_Model(model_id, name))
    for function_id, error in listing.errors.items():
        groups.setdefault(function_id, _Group(function_id)).error = error
    shown = [group for group in groups.values() if group.models or group.error]
    return [g for g in shown if g.models] + [g for g in shown if not g.models]


class ModelList(OptionList, can_focus=False):
    """The picker's list: never focused, so typing always goes to the filter above it.

    Its component classes style the rows the picker builds: function headings, model ids, the
    letters the filter matched. (On the list, not the screen: a widget composed in the screen
    has the screen's stylesheet from its mount on; the screen itself gets it only later.)
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "model-picker--match",
        "model-picker--heading",
        "model-picker--id",
        "model-picker--current",
    }


class ModelPicker(DialogScreen[str | None]):
    """Choose a model from a `ModelListing`; dismisses with the model id, or None when cancelled."""

    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("enter", "select", "Select", id="model_picker.select"),
        Binding("f4", "settings", "Settings", id="model_picker.settings"),
        Binding("down", "move('cursor_down')", "Down", show=False, id="model_picker.down"),
        Binding("up", "move('cursor_up')", "Up", show=False, id="model_picker.up"),
        Binding("pagedown", "move('page_down')", "Page down", show=False, id="model_picker.page_down"),
        Binding("pageup", "move('page_up')", "Page up", show=False, id="model_picker.page_up"),
        Binding("ctrl+home", "move('first')", "First", show=False, id="model_picker.first"),
        Binding("ctrl+end", "move('last')", "Last", show=False, id="model_picker.last"),
    ]
    AUTO_FOCUS = "#filter"

    def __init__(self, listing: ModelListing | None, current: str | None, *, loading: bool = False) -> None:
        super().__init__()
        self.listing = listing
        self.current = current
        self._waiting = loading and listing is None
        self._groups: list[_Group] = _groups(listing) if listing is not None else []
        self._option_models: list[str | None] = []  # model id per option index; None for headings and errors
        self._rows: list[tuple[str, str | None]] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Select a model"
            yield Input(placeholder="Type to filter models", id="filter")
            yield Static(id="status", markup=False)
            yield ModelList(id="models", markup=False)
            yield self.keys_hint(("↑↓", "move"), ("Enter", "select"), ("F4", "settings"), ("Esc", "cancel"))

    def on_mount(self) -> None:
        self._refresh()

    # -- public -------------------------------------------------------------------------
    def set_listing(self, listing: ModelListing) -> None:
        """Show `listing` (it finished loading after the picker opened); keeps what was typed."""
        self.listing = listing
        self._waiting = False
        self._groups = _groups(listing)
        if self.is_mounted:
            self._refresh()

    @property
    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value

    @property
    def rows(self) -> list[tuple[str, str | None]]:
        """What the list shows, as plain text: (text, model id), the id None for rows one can't pick."""
        return list(self._rows)

    @property
    def highlighted_model(self) -> str | None:
        """The model id under the cursor, if any."""
        index = self.query_one(ModelList).highlighted
        return None if index is None or index >= len(self._option_models) else self._option_models[index]

    # -- actions ------------------------------------------------------------------------
    def action_move(self, action: str) -> None:
        getattr(self.query_one(ModelList), f"action_{action}")()

    def action_select(self) -> None:
        model_id = self.highlighted_model
        if model_id is None:
            self.app.bell()
            return
        self.dismiss(model_id)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_settings(self) -> None:
        """The highlighted model's settings row: filters, default system prompt and params."""
        from tuichat.ui.screens.model_settings import ModelSettingsScreen

        model_id, services = self.highlighted_model, getattr(self.app, "services", None)
        if model_id is None or services is None:
            self.app.bell()
            return
        name = next((m.name for g in self._groups for m in g.models if m.model_id == model_id), model_id)
        self.app.push_screen(ModelSettingsScreen(services.store, services.host, model_id, model_name=name))

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._refresh()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_select()

    @on(OptionList.OptionSelected, "#models")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        model_id = self._option_models[event.option_index]
        if model_id is not None:
            self.dismiss(model_id)

    # -- building the list --------------------------------------------------------------
    def _refresh(self) -> None:
        query = self.filter_text.strip()
        options, models, texts = self._build(query)
        option_list = self.query_one(ModelList)
        self._option_models = models
        self._rows = list(zip(texts, models))
        option_list.set_options(options)
        option_list.display = bool(options)
        self._highlight(option_list, query)
        status = self._status(query, has_models=any(m is not None for m in models))
        status_widget = self.query_one("#status", Static)
        status_widget.update(status or "")
        status_widget.display = bool(status)
        status_widget.set_class(not options, "-alone")
        self.query_one(".dialog").border_subtitle = self._count(query, sum(m is not None for m in models))

    def _count(self, query: str, shown: int) -> str:
        """"4 models", or with a filter "1 of 4 models": what the list shows of all there are."""
        if self.listing is None:
            return ""
        total = sum(len(group.models) for group in self._groups)
        models = f"{total} model{'s' if total != 1 else ''}"
        return f"{shown} of {models}" if query else models

    def _status(self, query: str, *, has_models: bool) -> str | None:
        if self.listing is None:
            return "Loading models…" if self._waiting else f"No models.\n\n{ADD_PIPE_HINT}"
        if not any(group.models for group in self._groups):
            if self._groups:
                return f"No model is available: the pipes below failed. Fix them, or {ADD_PIPE_HINT[0].lower()}{ADD_PIPE_HINT[1:]}"
            return f"No models yet: no pipe is installed.\n\n{ADD_PIPE_HINT}"
        if query and not has_models:
            return f"No model matches “{query}”."
        return None

    def _build(self, query: str) -> tuple[list[Option], list[str | None], list[str]]:
        """The options for `query`, the model id of each (None for headings and errors), their text."""
        option_list = self.query_one(ModelList)
        heading_style = option_list.get_visual_style("model-picker--heading", partial=True)
        id_style = option_list.get_visual_style("model-picker--id", partial=True)
        match_style = option_list.get_visual_style("model-picker--match", partial=True)
        current_style = option_list.get_visual_style("model-picker--current", partial=True)
        matcher = Matcher(query, match_style=match_style) if query else None

        shown: list[tuple[float, _Group, list[tuple[_Model, Content]]]] = []
        for group in self._groups:
            rows: list[tuple[float, _Model, Content]] = []
            for model in group.models:
                prompt = Content(model.text)
                if model.text != model.name:
                    prompt = prompt.stylize(id_style, len(model.name) + 2)
                score = 1.0
                if matcher is not None:
                    score, offsets = matcher.fuzzy_search.match(query, model.text)
                    if not score:
                        continue
                    for offset in offsets:
                        if not model.text[offset].isspace():
                            prompt = prompt.stylize(match_style, offset, offset + 1)
                rows.append((score, model, prompt))
            if matcher is not None:
                rows.sort(key=lambda row: -row[0])  # stable: equal scores keep listing order
                group_score = rows[0][0] if rows else 0.0
                if not rows and not (group.error and matcher.match(group.function_id)):
                    continue
            else:
                group_score = 1.0
            shown.append((group_score, group, [(model, prompt) for _, model, prompt in rows]))
        if matcher is not None:
            shown.sort(key=lambda item: -item[0])

        options: list[Option] = []
        models: list[str | None] = []
        texts: list[str] = []

        def add(prompt: Content, model_id: str | None, *, indent: bool = True) -> None:
            options.append(Option(Padding(prompt, INDENT) if indent else prompt, disabled=model_id is None))
            models.append(model_id)
            texts.append(prompt.plain)

        for _, group, picked in shown:
            add(Content.styled(group.function_id, heading_style), None, indent=False)
            for model, prompt in picked:
                if model.model_id == self.current:  # the one the chat uses now
                    prompt = Content.assemble(prompt, ("  ✓ current", current_style))
                add(prompt, model.model_id)
            if group.error:
                add(Content.assemble("✗ not available: ", neutralise(first_line(group.error, ERROR_WIDTH)) or "failed"), None)
        return options, models, texts

    def _highlight(self, option_list: OptionList, query: str) -> None:
        models = self._option_models
        index: int | None = None
        if not query and self.current is not None and self.current in models:
            index = models.index(self.current)
        if index is None:
            index = next((i for i, model in enumerate(models) if model is not None), None)
        option_list.highlighted = index
        if index is not None:
            option_list.call_after_refresh(option_list.scroll_to_highlight)
