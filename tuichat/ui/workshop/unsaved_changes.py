"""Close an editor with unsaved changes? The dialog Escape opens in the pipe editor."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from tuichat.ui.screens.prompts import DialogScreen


class UnsavedChangesScreen(DialogScreen[str]):
    """Answers "save", "discard" or "cancel"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('save')", "Save", id="unsaved.save"),
        Binding("d", "answer('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,c", "answer('cancel')", "Cancel", id="unsaved.cancel"),
        Binding("left", "app.focus_previous", "Previous", show=False, id="dialog.previous"),
        Binding("right", "app.focus_next", "Next", show=False, id="dialog.next"),
    ]
    AUTO_FOCUS = "#save"

    def __init__(self, function_id: str) -> None:
        super().__init__()
        self.function_id = function_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Unsaved changes"
            yield Label(f"'{self.function_id}' has changes that are not saved.", markup=False)
            with Horizontal(classes="dialog--buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Discard", id="discard", variant="error")
                yield Button("Cancel", id="cancel")
            yield self.keys_hint(("s", "save and close"), ("d", "discard"), ("Esc", "keep editing"))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "cancel")
