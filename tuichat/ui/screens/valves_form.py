"""Edit a function's valves (`Valves`) or your own valves (`UserValves`) in a generated form.

The form shows the fields `tuichat.runtime.function_valves.read_function_valves` reads (the
pipe host reads them with the pipe's own classes), the same ones `tuichat pipes valves ID` lists: text, numbers and JSON as Inputs, bools as Switches,
Literal/Enum/`input.options` fields as Selects, secrets masked. Each field shows its title,
type, whether it is set ("custom") or uses its default, its description and default, and its
own validation error (one row each: `valve_row.ValveRow`). Values are checked in the pipe host
(`function_valves.check_form`), so a validator that misbehaves costs that process, never the
app: the form says what happened. Saving stores what Open WebUI stores: only the fields that are set (`FunctionLibrary.set_valves(..., merge=False)`); a field
reset to its default is not stored. The runtime applies valves on every call, so the next
message uses them.

Keys: Tab / Shift+Tab move between fields (Enter in a text field moves on too), F2 (or ctrl+j)
saves, F3 resets the focused field to its default, F4 shows or hides the focused secret, Escape
cancels (asking first when something changed). The screen dismisses with the stored dict, or
None when cancelled. Loading and saving run as workers; a failure of either ends in a message
on the form (`on_worker_state_changed`), never in a crash.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static, Switch
from textual.worker import Worker, WorkerState

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.runtime.function_valves import FunctionValves, check_form, read_function_valves
from tuichat.runtime.untrusted import neutralise
from tuichat.runtime.valve_fields import FORM_ERROR
from tuichat.ui.app import TuichatApp
from tuichat.ui.screens.prompts import ConfirmScreen, DialogScreen, stylesheet
from tuichat.ui.screens.valve_row import ValveRow

LOAD, SAVE, CHECK = "valves-load", "valves-save", "valves-check"  # the form's worker groups
FORM_ACTIONS = ("save", "reset_field", "reveal")  # only once there is a form


class ValvesScreen(DialogScreen[dict[str, Any] | None]):
    """A form for a function's `Valves` (user_id None) or a user's `UserValves` (user_id given).

    Dismisses with the dict now stored, or None when cancelled or when there is nothing to edit.
    """

    CSS_PATH = stylesheet(__file__)  # ValveRow's too
    app = getters.app(TuichatApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("f2,ctrl+j", "save", "Save", id="valves.save"),
        Binding("f3", "reset_field", "Reset field", id="valves.reset"),
        Binding("f4", "reveal", "Show secret", id="valves.reveal"),
    ]

    valves: var[FunctionValves | None] = var(None, bindings=True)  # the form shown (None: loading, or nothing to edit)
    dirty: var[bool] = var(False, bindings=True)  # the form differs from what is stored
    saving: var[bool] = var(False, bindings=True)

    def __init__(self, function_id: str, *, user_id: str | None = None) -> None:
        super().__init__()
        self.function_id = function_id
        self.user_id = user_id
        self.rows: list[ValveRow] = []
        self.loaded = False  # the form (or the reason there is none) is shown
        self._initial: dict[str, Any] = {}
        self._checking = False  # after a failed save, errors follow each edit

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
            yield Static("", classes="dialog--keys", markup=False)

    def on_mount(self) -> None:
        self._show_state()
        self._fit()
        self._load()

    # -- what the state shows ---------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in FORM_ACTIONS:
            if self.valves is None or (action == "reveal" and not any(valve.secret for valve in self.valves.fields)):
                return False  # nothing to save, reset or show
            if action == "save" and self.saving:
                return None
        if action == "cancel" and self.saving:
            return None
        return True

    def watch_valves(self) -> None:
        self._show_state()

    def watch_dirty(self) -> None:
        self._show_state()

    def watch_saving(self) -> None:
        self._show_state()

    def _show_state(self) -> None:
        """The key hints and the Save button follow `check_action`; the subtitle says what changed."""
        if not self.is_mounted:
            return
        shown = {action: self.check_action(action, ()) for action in FORM_ACTIONS}
        pairs = [(key, what) for (key, what), action in zip((("F2", "save"), ("F3", "reset field"), ("F4", "show secret")), FORM_ACTIONS)
                 if shown[action]]  # fmt: skip
        if self.valves is not None:
            pairs += [("Tab", "next"), ("Esc", "cancel")]
        else:
            pairs += [("Esc", "close" if self.loaded else "cancel")]
        self.query_one(".dialog--keys", Static).update("  ·  ".join(f"{key} {what}" for key, what in pairs))
        self.query_one("#save", Button).disabled = not shown["save"]
        status = "saving…" if self.saving else "unsaved changes" if self.dirty else ""
        self.query_one(".dialog", Vertical).border_subtitle = status

    # -- loading and saving -----------------------------------------------------------------
    @work(exclusive=True, group=LOAD, exit_on_error=False)
    async def _load(self) -> None:
        library = (await self.app.runtime()).library
        valves = await read_function_valves(library, self.function_id, user_id=self.user_id)
        if self.dismissed:
            return
        name = neutralise(valves.function.name or valves.function.id)
        self.query_one(".dialog").border_title = f"{self.kind_label} · {name}"
        if not valves.fields:
            await self._show_message(f"{name} has a {valves.model_name} class with no fields: there is nothing to set.")
            return
        self.rows = [ValveRow(valve, i) for i, valve in enumerate(valves.fields)]
        container = self.query_one("#valves-fields", VerticalScroll)
        await container.remove_children()
        await container.mount_all(self.rows)
        self._initial = self.form_values()
        self.loaded = True
        self.valves = valves
        self.rows[0].editor.focus()
        self.call_after_refresh(self._fit)

    @work(exclusive=True, group=SAVE, exit_on_error=False)
    async def _save(self, raw: dict[str, Any]) -> None:
        """Check the form in the pipe host; store what it gives, or show its errors at the fields."""
        library = (await self.app.runtime()).library
        values, errors = await check_form(library, self.function_id, raw, user_id=self.user_id)
        self._checking = True  # from now on, errors follow each edit
        if errors:
            self.saving = False
            self._show_errors(errors)
            self.app.bell()
            first = next((row for row in self.rows if row.valve.name in errors), None)
            if first is not None:
                first.editor.focus()
                first.scroll_visible(animate=False)
            return
        self._show_errors({})
        stored = await library.set_valves(self.function_id, values, user_id=self.user_id, merge=False)
        self.saving = False
        self.dismiss(stored)

    @work(exclusive=True, group=CHECK, exit_on_error=False)
    async def _check(self, raw: dict[str, Any]) -> None:
        """After a refused save, each edit is checked again (in the host), and its errors shown."""
        library = (await self.app.runtime()).library
        _, errors = await check_form(library, self.function_id, raw, user_id=self.user_id)
        if not self.saving and not self.dismissed and raw == self.form_values():
            self._show_errors(errors)

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A load or save that failed: said on the form (the form stays usable, the app runs on)."""
        worker: Worker[Any] = event.worker
        if event.state != WorkerState.ERROR or worker.group not in (LOAD, SAVE, CHECK):
            return
        event.stop()
        if worker.group == CHECK:  # the next save says it again, and keeps the form usable
            return
        error = worker.error
        # The runtime's own errors say what happened (no such function, it fails to load, it has
        # no Valves class, a validator refused the values); anything else gets a heading.
        known = isinstance(error, RuntimeErrorBase)
        if worker.group == LOAD:
            await self._show_message(str(error) if known else f"Could not load the {self.kind_label.lower()}: {error}")
        else:
            self.saving = False
            self._show_errors({FORM_ERROR: str(error) if known else f"Could not save: {error}"})
            self.app.bell()

    async def _show_message(self, text: str) -> None:
        """Instead of a form: why there is none. Only Close is left."""
        if self.dismissed:
            return
        container = self.query_one("#valves-fields", VerticalScroll)
        await container.remove_children()
        await container.mount(Static(neutralise(text), id="valves-message", markup=False))  # a load error quotes the pipe
        self.query_one("#save", Button).display = False
        cancel = self.query_one("#cancel", Button)
        cancel.label = "Close"
        cancel.focus()
        self.loaded = True
        self._show_state()

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

    # -- the form's values ------------------------------------------------------------------
    def form_values(self) -> dict[str, Any]:
        """The form's values for `parse_form`: None for each field using its default."""
        return {row.valve.name: row.form_value() for row in self.rows}

    def row(self, name: str) -> ValveRow:
        return next(row for row in self.rows if row.valve.name == name)

    def editor(self, name: str) -> Widget:
        """The editor widget of field `name` (for tests and callers that focus a field)."""
        return self.row(name).editor

    def _focused_row(self) -> ValveRow | None:
        widget: Any = self.focused
        while widget is not None and not isinstance(widget, ValveRow):
            widget = widget.parent
        return widget

    def _show_errors(self, errors: dict[str, str]) -> None:
        for row in self.rows:
            row.show_error(errors.get(row.valve.name))
        form_error = self.query_one("#valves-form-error", Static)
        form_error.update(errors.get(FORM_ERROR, ""))
        form_error.set_class(FORM_ERROR in errors, "-shown")
        self.call_after_refresh(self._fit)

    def _after_edit(self, row: ValveRow) -> None:
        if self._checking and self.valves is not None:
            self._check(self.form_values())
        else:
            row.show_error(None)
        self.dirty = self.form_values() != self._initial

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
    def _save_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    # -- actions ----------------------------------------------------------------------------
    def action_save(self) -> None:
        if self.valves is None or self.check_action("save", ()) is not True or self.dismissed:
            return
        self.saving = True
        self._save(self.form_values())

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
