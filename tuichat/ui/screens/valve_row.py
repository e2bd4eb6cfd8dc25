"""One field of the valves form (`ValveRow`), and the editor widget for each kind of field.

A row shows the field's title, its type and state ("custom" when set, else "default"), its
editor, its description and default, and its error. Editors hold values in the form's own
shape (`tuichat.runtime.valve_fields.to_raw`): text for text, numbers, secrets and JSON, a bool
for a switch, the chosen option's value for a select.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.widgets import Input, Label, Select, Static, Switch

from tuichat.runtime.untrusted import neutralise
from tuichat.runtime.valve_fields import ValveField

SECRET_DEFAULT = "••••••"
Editor = Input | Switch | Select[int]


# -- editors ----------------------------------------------------------------------------------
def make_editor(valve: ValveField, value: Any, editor_id: str) -> Editor:
    """The widget that edits `valve`, showing `value`: a Switch, a Select (of option indexes) or an Input."""
    if valve.kind == "bool":
        return Switch(bool(value), id=editor_id)
    if valve.kind == "select":
        index = valve.option_index(value) if value is not None else None
        return Select(
            [(Content(neutralise(option.label)), i) for i, option in enumerate(valve.options)],  # the pipe's words: shown, not obeyed
            compact=True,
            prompt="(default)" if not valve.required else "Choose…",
            allow_blank=valve.optional or valve.required or valve.option_index(valve.default) is None,
            value=Select.NULL if index is None else index,
            id=editor_id,
        )
    kind = {"int": "integer", "float": "number"}.get(valve.kind, "text")
    placeholder = "unset" if valve.optional else ("required" if valve.required else "")
    return Input(
        neutralise(str(value)),  # the pipe's default, or a stored value: shown, not obeyed (see ValveRow.read)
        placeholder=placeholder,
        password=valve.secret,
        type=kind,  # type: ignore[arg-type]
        valid_empty=valve.optional,
        select_on_focus=False,
        compact=True,
        id=editor_id,
    )


def read_editor(valve: ValveField, editor: Editor) -> Any:
    """The editor's value in `to_raw` form (None: a blank select)."""
    if isinstance(editor, Switch):
        return editor.value
    if isinstance(editor, Select):
        index = editor.value
        return None if index is Select.NULL else valve.options[index].value  # type: ignore[index]
    return editor.value


def write_editor(valve: ValveField, editor: Editor, value: Any) -> None:
    """Show `value` (in `to_raw` form) in the editor."""
    if isinstance(editor, Switch):
        editor.value = bool(value)
    elif isinstance(editor, Select):
        index = valve.option_index(value) if value is not None else None
        editor.value = Select.NULL if index is None else index
    else:
        editor.value = neutralise(str(value))


def shown_default(valve: ValveField) -> str:
    """The default as the help line words it: "Default: 256.", "Default: on.", "Required."."""
    if valve.required:
        return "Required."
    raw = valve.default_raw
    if valve.secret:
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


# -- the row ----------------------------------------------------------------------------------
class ValveRow(Vertical):
    """One field: its title line, its editor, description and default, and its error.

    Styled by valves_form.tcss (the form is the only place rows live).
    """

    is_set: var[bool] = var(False, toggle_class="-set")  # stored (or edited): not the default
    revealed: var[bool] = var(False)  # a secret shown in clear (F4)
    error_text: var[str] = var("", toggle_class="-error")

    def __init__(self, valve: ValveField, index: int) -> None:
        super().__init__(classes="valve")
        self.valve = valve
        self.index = index
        self.shown: Any = valve.raw if valve.is_set else valve.default_raw  # what the editor was given
        self.editor = make_editor(valve, self.shown, f"valve-{index}")
        self.is_set = valve.is_set

    def compose(self) -> ComposeResult:
        valve = self.valve
        # The pipe's Valves class wrote titles and descriptions: control characters are shown.
        title = neutralise(valve.title if valve.title == valve.name else f"{valve.title} ({valve.name})")
        with Horizontal(classes="valve--head"):
            yield Label(title, classes="valve--title", markup=False)
            yield Label(neutralise(self._meta()), classes="valve--meta", markup=False)
        if isinstance(self.editor, Switch):
            with Horizontal(classes="valve--switch"):
                yield self.editor
                yield Label(self._state(), classes="valve--state")
        else:
            yield self.editor
        yield Static(neutralise(f"{valve.description.strip()} {shown_default(valve)}".strip()), classes="valve--help", markup=False)
        yield Static(self.error_text, classes="valve--error", markup=False)

    def _meta(self) -> str:
        parts = [self.valve.type_name or self.valve.kind]
        if self.valve.secret:
            parts.append("shown" if self.revealed else "hidden")
        parts.append("custom" if self.is_set else ("required" if self.valve.required else "default"))
        return " · ".join(parts)

    def _state(self) -> str:
        return "on" if self.read() else "off"

    def _show_state(self) -> None:
        if self.is_mounted:
            self.query_one(".valve--meta", Label).update(neutralise(self._meta()))
            if isinstance(self.editor, Switch):
                self.query_one(".valve--state", Label).update(self._state())

    def watch_is_set(self) -> None:
        self._show_state()

    def watch_revealed(self, revealed: bool) -> None:
        if isinstance(self.editor, Input):
            self.editor.password = self.valve.secret and not revealed
        self._show_state()

    def watch_error_text(self, text: str) -> None:
        if self.is_mounted:
            self.query_one(".valve--error", Static).update(text)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Bring the whole field into view (its help and error too), not just the editor line.
        self.call_after_refresh(self.scroll_visible, animate=False)

    # -- the value ------------------------------------------------------------------------
    def read(self) -> Any:
        """The editor's value in `to_raw` form (None: a blank select)."""
        value = read_editor(self.valve, self.editor)
        # A text shown neutralised and left as it was still means the value it was given, control
        # characters and all: saving the form must not rewrite a value nobody edited.
        if isinstance(self.shown, str) and isinstance(self.editor, Input) and value == neutralise(self.shown):
            return self.shown
        return value

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
        self._show_state()  # a switch's on/off
        return True

    def reset(self) -> None:
        """Back to the default: the field is unset, and the editor shows the default."""
        self.shown = self.valve.default_raw
        with self.prevent(Input.Changed, Switch.Changed, Select.Changed):
            write_editor(self.valve, self.editor, self.shown)
        self.is_set = False
        self._show_state()

    def toggle_reveal(self) -> bool:
        """Show or hide a secret; False for a field that is no secret."""
        if not self.valve.secret or not isinstance(self.editor, Input):
            return False
        self.revealed = not self.revealed
        return True

    def show_error(self, message: str | None) -> None:
        self.error_text = neutralise(message or "")  # a validator's message: the pipe wrote it
