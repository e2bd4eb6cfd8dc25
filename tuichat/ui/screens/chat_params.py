"""A chat's params (F12 in the chat, beside F4's system prompt): temperature, top_p,
max_tokens, seed, stop, reasoning_effort, function_calling and custom keys as JSON. Saved in
the chat's row and passed to each turn; a model's settings row holds the defaults.

Keys: Tab / Enter to the next field, F2 or ctrl+j saves (refused with an error under each
wrong field, nothing saved), Escape cancels. Dismisses with the params, or None."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from tuichat.ui.screens.params_form import ParamsForm
from tuichat.ui.screens.prompts import DialogScreen, stylesheet


class ChatParamsScreen(DialogScreen[dict[str, Any] | None]):
    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("f2,ctrl+j", "save", "Save", id="params.save"),
    ]

    def __init__(self, params: Mapping[str, Any], *, title: str = "Chat params", note: str = "") -> None:
        super().__init__()
        self.params = dict(params)
        self.title_text = title
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self.title_text
            yield Static(
                self.note or "For this chat; empty fields use the model's defaults.", classes="params--note", markup=False
            )
            yield ParamsForm(self.params, id="params")
            with Horizontal(classes="dialog--buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
            yield self.keys_hint(("Tab", "next"), ("F2/ctrl+j", "save"), ("Esc", "cancel"))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#param-temperature").focus()

    def action_save(self) -> None:
        params, errors = self.query_one(ParamsForm).read()
        if errors:
            self.app.bell()
            return
        self.dismiss(params)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
