"""The "new function" dialog (n on the pipes screen): an id, and the template to start from."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tuichat.store.ids import validate_function_id
from tuichat.ui.screens.prompts import DialogScreen


class NewFunctionScreen(DialogScreen[tuple[str, str] | None]):
    """Ask for a new function's id and its template; dismisses with (id, template) or None."""

    CSS_PATH = "new_function.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]
    AUTO_FOCUS = "#new-id"
    TEMPLATES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("pipe", "one model"),
        ("manifold", "several models from one function"),
        ("tool", "a class Tools module a chat's model can call"),
    )

    def __init__(self, taken: set[str]) -> None:
        super().__init__()
        self.taken = taken
        self.template = "pipe"

    def compose(self) -> ComposeResult:
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

    def _options(self) -> list[Option]:
        # The chosen template is marked in text, so it shows without colour too.
        return [
            Option(Text(f"({'•' if name == self.template else ' '}) {name}: {what}"), id=name)
            for name, what in self.TEMPLATES
        ]

    @on(OptionList.OptionHighlighted, "#new-template")
    def _template_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id and event.option.id != self.template:
            self.template = event.option.id
            for option in self._options():
                assert option.id is not None
                event.option_list.replace_option_prompt(option.id, option.prompt)

    @on(OptionList.OptionSelected, "#new-template")
    def _template_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_create()

    def action_create(self) -> None:
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

    @on(Input.Submitted, "#new-id")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_create()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "create":
            self.action_create()
        else:
            self.action_cancel()
