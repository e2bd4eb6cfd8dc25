"""Edit a function's valves (`Valves`) or your own valves (`UserValves`) in a generated form.

The form comes from `tuichat.runtime.valves.form_fields`: text, numbers and JSON as Inputs, bools
as Switches, Literal/Enum/`input.options` fields as Selects, secrets masked. Each field shows
its title, type, whether it is set ("custom") or uses its default, its description and default,
and its own validation error. Saving stores what Open WebUI stores: only the fields that are set
(`FunctionLibrary.set_valves(..., merge=False)`); a field reset to its default is not stored.
The runtime applies valves on every call, so the next message uses them.

Keys: Tab / Shift+Tab move between fields (Enter in a text field moves on too), F2 (or ctrl+j)
saves, F3 resets the focused field to its default, F4 shows or hides the focused secret, Escape
cancels (asking first when something changed). The screen dismisses with the stored dict, or
None when cancelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static, Switch

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.runtime.valves import FORM_ERROR, ValveField, form_fields, parse_form
from tuichat.ui.screens.prompts import ConfirmScreen, DialogScreen

if TYPE_CHECKING:
    from pydantic import BaseModel

    from tuichat.runtime.library import FunctionLibrary

SECRET_DEFAULT = "••••••"
_Editor = Input | Switch | Select[int]


def _shown_default(valve: ValveField) -> str:
    if valve.required:
        return "Required."
    raw = valve.default_raw
    if valve.kind == "secret":
        text = SECRET_DEFAULT if raw else "(empty)"
    elif valve.kind == "bool":
        text = "on" if raw else "off"
    elif valve.kind == "select":
        index = valve.option_index(valve.default)
        text = valve.options[index].label if index is not None else ("(none)" if valve.default is None else repr(valve.default))
    elif valve.default is None:
        text = "unset"
    else:
        text = raw if raw != "" else '""'
    return f"Default: {text}."


class ValveRow(Vertical):
    """One field: its title line, its editor, description and default, and its error."""

    DEFAULT_CSS = """
    ValveRow {
        height: auto;
        padding: 0 1 0 1;
        margin-bottom: 1;
        border-left: blank;
    }
    ValveRow:focus-within {
        border-left: thick $primary;
        background: $boost;
    }
    ValveRow.-error {
        border-left: thick $error;
    }
    ValveRow .valve--head {
        height: 1;
    }
    ValveRow .valve--title {
        width: 1fr;
        text-style: bold;
    }
    ValveRow .valve--meta {
        width: auto;
        color: $text-muted;
    }
    ValveRow.-set .valve--meta {
        color: $text-accent;
    }
    ValveRow .valve--switch {
        height: 1;
    }
    ValveRow Switch {
        height: 1;
        border: none;
        padding: 0;
        &:focus {
            border: none;
        }
    }
    ValveRow .valve--state {
        width: auto;
        margin-left: 1;
    }
    ValveRow Input, ValveRow SelectCurrent {
        background: $panel;
        padding: 0 1;
    }
    ValveRow Input:focus, ValveRow Select:focus > SelectCurrent {
        background: $panel-lighten-1;
    }
    ValveRow Select {
        width: 1fr;
    }
    ValveRow .valve--help {
        width: 1fr;
        color: $text-muted;
    }
    ValveRow .valve--error {
        width: 1fr;
        color: $text-error;
        text-style: bold;
        display: none;
    }
    ValveRow.-error .valve--error {
        display: block;
    }
    """

    def __init__(self, valve: ValveField, index: int) -> None:
        super().__init__(classes="valve")
        self.valve = valve
        self.index = index
        self.is_set = valve.is_set
        self.shown: Any = valve.raw if valve.is_set else valve.default_raw  # what the editor was given
        self.revealed = False
        self.editor = self._make_editor()
        self.set_class(valve.is_set, "-set")

    @property
    def editor_id(self) -> str:
        return f"valve-{self.index}"

    def _make_editor(self) -> _Editor:
        valve = self.valve
        if valve.kind == "bool":
            return Switch(bool(self.shown), id=self.editor_id)
        if valve.kind == "select":
            index = valve.option_index(self.shown) if self.shown is not None else None
            return Select(
                [(option.label, i) for i, option in enumerate(valve.options)],
                compact=True,
                prompt="(default)" if not valve.required else "Choose…",
                allow_blank=valve.optional or valve.required or valve.option_index(valve.default) is None,
                value=Select.NULL if index is None else index,
                id=self.editor_id,
            )
        kind = {"int": "integer", "float": "number"}.get(valve.kind, "text")
        placeholder = "unset" if valve.optional else ("required" if valve.required else "")
        return Input(
            str(self.shown),
            placeholder=placeholder,
            password=valve.kind == "secret",
            type=kind,  # type: ignore[arg-type]
            valid_empty=valve.optional,
            select_on_focus=False,
            compact=True,
            id=self.editor_id,
        )

    def compose(self) -> ComposeResult:
        valve = self.valve
        title = valve.title if valve.title == valve.name else f"{valve.title} ({valve.name})"
        with Horizontal(classes="valve--head"):
            yield Label(title, classes="valve--title", markup=False)
            yield Label(self._meta(), classes="valve--meta", markup=False)
        if isinstance(self.editor, Switch):
            with Horizontal(classes="valve--switch"):
                yield self.editor
                yield Label(self._state(), classes="valve--state")
        else:
            yield self.editor
        help_text = f"{valve.description.strip()} {_shown_default(valve)}".strip()
        yield Static(help_text, classes="valve--help", markup=False)
        yield Static("", classes="valve--error", markup=False)

    def _meta(self) -> str:
        parts = [self.valve.type_name or self.valve.kind]
        if self.valve.kind == "secret":
            parts.append("shown" if self.revealed else "hidden")
        if self.is_set:
            parts.append("custom")
        else:
            parts.append("required" if self.valve.required else "default")
        return " · ".join(parts)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Bring the whole field into view (its help and error too), not just the editor line.
        self.call_after_refresh(self.scroll_visible, animate=False)

    def _state(self) -> str:
        return "on" if self.read() else "off"

    def _refresh_meta(self) -> None:
        self.set_class(self.is_set, "-set")
        if self.is_mounted:
            self.query_one(".valve--meta", Label).update(self._meta())
            if isinstance(self.editor, Switch):
                self.query_one(".valve--state", Label).update(self._state())

    def read(self) -> Any:
        """The editor's value in `to_raw` form (None: a blank select)."""
        editor = self.editor
        if isinstance(editor, Switch):
            return editor.value
        if isinstance(editor, Select):
            index = editor.value
            return None if index is Select.NULL else self.valve.options[index].value  # type: ignore[index]
        return editor.value

    def form_value(self) -> Any:
        """What `parse_form` gets: None while the field uses its default."""
        return self.read() if self.is_set else None

    def edited(self) -> bool:
        """Note a change of the editor; False when it only echoes a value the form put there."""
        current = self.read()
        if current == self.shown:
            return False
        self.shown = current
        # Choosing the blank entry of a select is choosing its default.
        self.is_set = not (self.valve.kind == "select" and current is None)
        self._refresh_meta()
        return True

    def reset(self) -> None:
        """Back to the default: the field is unset, and the editor shows the default."""
        self.is_set = False
        self.shown = self.valve.default_raw
        editor = self.editor
        with self.prevent(Input.Changed, Switch.Changed, Select.Changed):
            if isinstance(editor, Switch):
                editor.value = bool(self.shown)
            elif isinstance(editor, Select):
                index = self.valve.option_index(self.shown) if self.shown is not None else None
                editor.value = Select.NULL if index is None else index
            else:
                editor.value = str(self.shown)
        self._refresh_meta()

    def toggle_reveal(self) -> bool:
        if not isinstance(self.editor, Input) or self.valve.kind != "secret":
            return False
        self.revealed = not self.revealed
        self.editor.password = not self.revealed
        self._refresh_meta()
        return True

    def show_error(self, message: str | None) -> None:
        self.set_class(bool(message), "-error")
        self.query_one(".valve--error", Static).update(message or "")


class ValvesScreen(DialogScreen[dict[str, Any] | None]):
    """A form for a function's `Valves` (user_id None) or a user's `UserValves` (user_id given).

    Dismisses with the dict now stored, or None when cancelled or when there is nothing to edit.
    """

    DEFAULT_CSS = """
    ValvesScreen > .dialog {
        width: 78;
        height: auto;
        max-height: 100%;
        overflow-y: hidden;
    }
    ValvesScreen #valves-intro {
        width: 1fr;
        color: $text-muted;
    }
    ValvesScreen #valves-fields {
        height: auto;
        margin-top: 1;
        scrollbar-size-vertical: 1;
    }
    ValvesScreen #valves-message {
        width: 1fr;
        margin-bottom: 1;
    }
    ValvesScreen #valves-form-error {
        width: 1fr;
        color: $text-error;
        text-style: bold;
        display: none;
    }
    ValvesScreen #valves-form-error.-shown {
        display: block;
    }
    ValvesScreen .dialog--buttons {
        margin-top: 0;
        height: auto;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("f2,ctrl+j", "save", "Save", id="valves.save"),
        Binding("f3", "reset_field", "Reset field", id="valves.reset"),
        Binding("f4", "reveal", "Show secret", id="valves.reveal"),
    ]

    def __init__(self, library: FunctionLibrary, function_id: str, *, user_id: str | None = None) -> None:
        super().__init__()
        self.library = library
        self.function_id = function_id
        self.user_id = user_id
        self.model_class: type[BaseModel] | None = None
        self.fields: list[ValveField] = []
        self.rows: list[ValveRow] = []
        self.loaded = False  # the form (or the reason there is none) is shown
        self._initial: dict[str, Any] = {}
        self._checking = False  # after a failed save, errors follow each edit
        self._saving = False

    @classmethod
    async def for_local_user(cls, library: FunctionLibrary, function_id: str) -> ValvesScreen:
        """The form for the local user's own `UserValves` of `function_id`."""
        user = await library.store.users.local()
        return cls(library, function_id, user_id=user["id"])

    @property
    def kind_label(self) -> str:
        return "User valves" if self.user_id is not None else "Valves"

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = f"{self.kind_label} · {self.function_id}"
            if self.user_id is not None:
                intro = "Only yours (UserValves). Saved values apply to your next message."
            else:
                intro = "For everyone (Valves). Saved values apply to the next message."
            yield Static(intro, id="valves-intro", markup=False)
            with VerticalScroll(id="valves-fields", can_focus=False):  # Tab goes field to field
                yield Static("Loading…", id="valves-message", markup=False)
            yield Static("", id="valves-form-error", markup=False)
            with Horizontal(classes="dialog--buttons"):
                yield Button("Save", id="save", variant="primary", disabled=True, compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield Static(self._hints(), classes="dialog--keys", markup=False)  # F4 goes if there is no secret

    @staticmethod
    def _hints(*, secrets: bool = True) -> str:
        pairs = [("F2", "save"), ("F3", "reset field")] + ([("F4", "show secret")] if secrets else [])
        return "  ·  ".join(f"{key} {what}" for key, what in [*pairs, ("Tab", "next"), ("Esc", "cancel")])

    def on_mount(self) -> None:
        super().on_mount()
        self._fit()
        self.run_worker(self._load(), exclusive=True, group="valves-form", exit_on_error=False)

    async def _load(self) -> None:
        try:
            row, cls = await self.library.valves_model(self.function_id, user=self.user_id is not None)
            if self.user_id is not None:
                stored = await self.library.store.functions.get_user_valves(row.id, self.user_id)
            else:
                stored = row.valves or {}
            try:
                user: Any = await self.library.store.users.local()
            except Exception:  # noqa: BLE001 - options methods then get no user
                user = None
            fields = form_fields(cls, stored, user=user)
        except RuntimeErrorBase as error:  # no such function, it fails to load, no Valves class
            await self._show_message(str(error))
            return
        except Exception as error:  # noqa: BLE001 - the store, say: the form must not stay on "Loading…"
            await self._show_message(f"Could not load the {self.kind_label.lower()}: {error}")
            return
        if self.dismissed:
            return
        self.query_one(".dialog").border_title = f"{self.kind_label} · {row.name or row.id}"
        if not fields:
            await self._show_message(f"{row.name or row.id} has a {cls.__name__} class with no fields: there is nothing to set.")
            return
        self.model_class = cls
        self.fields = fields
        self.rows = [ValveRow(valve, i) for i, valve in enumerate(fields)]
        container = self.query_one("#valves-fields", VerticalScroll)
        await container.remove_children()
        await container.mount_all(self.rows)
        self._initial = self.form_values()
        if not any(valve.kind == "secret" for valve in fields):
            self.query_one(".dialog--keys", Static).update(self._hints(secrets=False))
        self.query_one("#save", Button).disabled = False
        self.loaded = True
        self.rows[0].editor.focus()
        self.call_after_refresh(self._fit)

    async def _show_message(self, text: str) -> None:
        if self.dismissed:
            return
        container = self.query_one("#valves-fields", VerticalScroll)
        await container.remove_children()
        await container.mount(Static(text, id="valves-message", markup=False))
        self.query_one("#save", Button).display = False
        cancel = self.query_one("#cancel", Button)
        cancel.label = "Close"
        cancel.focus()
        self.loaded = True

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Give the fields what the screen has left, so Save and the key hints stay on screen.

        (A `1fr` height would stretch a short form to the full screen; `auto` would push the
        buttons off a short screen.)
        """
        dialog = self.query_one(".dialog", Vertical)
        fields = self.query_one("#valves-fields", VerticalScroll)
        chrome = dialog.styles.gutter.height + fields.styles.margin.height
        chrome += sum(child.outer_size.height + child.styles.margin.height for child in dialog.children if child is not fields and child.display)
        fields.styles.max_height = max(3, self.size.height - chrome)

    # -- state ------------------------------------------------------------------------------
    def form_values(self) -> dict[str, Any]:
        """The form's values for `parse_form`: None for each field using its default."""
        return {row.valve.name: row.form_value() for row in self.rows}

    @property
    def dirty(self) -> bool:
        return self.loaded and self.form_values() != self._initial

    def row(self, name: str) -> ValveRow:
        return next(row for row in self.rows if row.valve.name == name)

    def _focused_row(self) -> ValveRow | None:
        widget: Any = self.focused
        while widget is not None and not isinstance(widget, ValveRow):
            widget = widget.parent
        return widget

    def _validate(self) -> tuple[dict[str, Any], dict[str, str]]:
        assert self.model_class is not None
        values, errors = parse_form(self.model_class, self.form_values(), fields=self.fields)
        self._show_errors(errors)
        return values, errors

    def _show_errors(self, errors: dict[str, str]) -> None:
        for row in self.rows:
            row.show_error(errors.get(row.valve.name))
        form_error = self.query_one("#valves-form-error", Static)
        form_error.update(errors.get(FORM_ERROR, ""))
        form_error.set_class(FORM_ERROR in errors, "-shown")
        self.call_after_refresh(self._fit)

    def _after_edit(self, row: ValveRow) -> None:
        if self._checking:
            self._validate()
        else:
            row.show_error(None)

    # -- events -----------------------------------------------------------------------------
    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    def _changed(self, event: Input.Changed | Switch.Changed | Select.Changed) -> None:
        event.stop()
        row = next((row for row in self.rows if row.editor is event.control), None)
        if row is not None and row.edited():
            self._after_edit(row)

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    @on(Button.Pressed, "#save")
    async def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    # -- actions ----------------------------------------------------------------------------
    async def action_save(self) -> None:
        if self.model_class is None or self._saving or self.dismissed:
            return
        values, errors = self._validate()
        self._checking = True
        if errors:
            self.app.bell()
            first = next((row for row in self.rows if row.valve.name in errors), None)
            if first is not None:
                first.editor.focus()
                first.scroll_visible(animate=False)
            return
        self._saving = True
        try:
            stored = await self.library.set_valves(self.function_id, values, user_id=self.user_id, merge=False)
        except Exception as error:  # noqa: BLE001 - InvalidValves (a validator that only runs on save), the store
            self._show_errors({FORM_ERROR: str(error)})
            self.app.bell()
            return
        finally:
            self._saving = False
        self.dismiss(stored)

    def action_reset_field(self) -> None:
        row = self._focused_row()
        if row is None:
            self.app.bell()
            return
        row.reset()
        self._after_edit(row)

    def action_reveal(self) -> None:
        row = self._focused_row()
        if row is None or not row.toggle_reveal():
            self.app.bell()

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("Your changes are not saved. Discard them?", title="Discard changes?", yes="Discard", no="Keep editing"),
            answered,
        )

    def editor(self, name: str) -> Widget:
        """The editor widget of field `name` (for tests and callers that focus a field)."""
        return self.row(name).editor
