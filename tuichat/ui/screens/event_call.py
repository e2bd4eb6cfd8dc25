"""Dialogs that answer a pipe's `__event_call__`, returning what Open WebUI's browser would (spec §9).

* `{"type": "confirmation", "data": {"title", "message"}}` -> `ConfirmationDialog`: True on Confirm,
  False on Cancel.
* `{"type": "input", "data": {"title", "message", "placeholder", "value", "type", "options", "input"}}`
  -> `InputDialog`: the entered string (possibly "") on Confirm, False on Cancel.

`dialog_for(event)` picks one, or returns None for calls no dialog answers (`execute`, …).
The event is read by `tuichat.runtime.reply.event_call_request.read_event_call`, as `tuichat run` reads it.
Both can be closed from outside with `dialog.dismiss(False)` (a stopped reply does that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, Select, TextArea

from tuichat.runtime.reply.event_call_request import EventCallRequest, read_event_call
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.screens.prompts import DialogScreen, stylesheet
from tuichat.ui.widgets.text_field import MultilineField

CONFIRMATION_TITLE = "Confirm your action"  # Open WebUI's title when a pipe gives none
INPUT_TITLE = "Input requested"


class MessageView(VerticalScroll):
    """The Markdown message, scrolling when long; focusable only when there is something to scroll."""

    def __init__(self, markdown: str) -> None:
        super().__init__(classes="dialog--message")
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        yield Markdown(self.markdown)

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0


class _EventDialog(DialogScreen[Any]):
    """The common frame: title, Markdown message, the body, Confirm/Cancel, key hints.

    Made from the request `read_event_call` reads, or from the event's `data` dict.
    """

    CSS_PATH = stylesheet(__file__)  # MessageView's too
    KIND: ClassVar[str] = ""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+j", "confirm", "Confirm", id="dialog.submit"),
    ]

    def __init__(self, request: EventCallRequest | Mapping[str, Any] | None, default_title: str) -> None:
        super().__init__()
        if not isinstance(request, EventCallRequest):
            request = read_event_call({"type": self.KIND, "data": request}) or EventCallRequest(self.KIND)
        self.request = request
        # Shown, not obeyed: the pipe wrote these (see `untrusted`).
        self.title_text = neutralise(request.title) or default_title
        self.message = neutralise(request.message)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog--title", markup=False)
            if self.message.strip():
                yield MessageView(self.message)
            yield from self.compose_body()
            with Horizontal(classes="dialog--buttons"):
                yield Button("Confirm", id="confirm", variant="primary")
                yield Button("Cancel", id="cancel")
            yield self.keys_hint(*self.hints())

    def compose_body(self) -> ComposeResult:
        yield from ()

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", "confirm"), ("Esc", "cancel")]

    def answer(self) -> Any:
        return True

    def action_confirm(self) -> None:
        self.dismiss(self.answer())

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#confirm")
    def _confirm_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()


class ConfirmationDialog(_EventDialog):
    """`{"type": "confirmation"}`: True on Confirm (Enter), False on Cancel (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", "Confirm", id="dialog.confirm"),
        Binding("left", "app.focus_previous", "Previous", show=False, id="dialog.previous"),
        Binding("right", "app.focus_next", "Next", show=False, id="dialog.next"),
    ]
    AUTO_FOCUS = "#confirm"
    KIND = "confirmation"

    def __init__(self, request: EventCallRequest | Mapping[str, Any] | None = None) -> None:
        super().__init__(request, CONFIRMATION_TITLE)

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", "confirm"), ("Esc", "cancel"), ("Tab", "move")]


class InputDialog(_EventDialog):
    """`{"type": "input"}`: the entered string on Confirm (possibly ""), False on Cancel.

    The field follows Open WebUI: a `Select` when `options` (or `input.options`) are given, a
    masked Input for type "password", a multi-line TextArea for type "textarea", else one line.
    """

    AUTO_FOCUS = "#value"
    KIND = "input"

    def __init__(self, request: EventCallRequest | Mapping[str, Any] | None = None) -> None:
        super().__init__(request, INPUT_TITLE)
        self.placeholder = neutralise(self.request.placeholder)
        self.value = self.request.value
        self.options = self.request.options
        if self.options:
            self.widget_kind = "select"
        elif self.request.input_type == "textarea":
            self.widget_kind = "textarea"
        else:
            self.widget_kind = "input"
        self.add_class(f"-{self.widget_kind}")

    def compose_body(self) -> ComposeResult:
        if self.widget_kind == "select":
            values = [value for _, value in self.options]
            index = next((i for i, value in enumerate(values) if ("" if value is None else str(value)) == self.value), None)
            yield Select(
                [(neutralise(label), i) for i, (label, _) in enumerate(self.options)],
                prompt=self.placeholder or "Choose…",
                allow_blank=index is None,
                value=Select.NULL if index is None else index,
                id="value",
            )
        elif self.widget_kind == "textarea":
            # The pipe's default, shown: a control character in it would act on the terminal.
            yield MultilineField(neutralise(self.value), id="value", soft_wrap=True, tab_behavior="focus", placeholder=self.placeholder)
        else:
            yield Input(neutralise(self.value), placeholder=self.placeholder, password=self.request.password, id="value", select_on_focus=False)

    def hints(self) -> list[tuple[str, str]]:
        if self.widget_kind == "textarea":
            return [("Enter", "confirm"), ("ctrl+j", "new line"), ("Tab", "buttons"), ("Esc", "cancel")]
        if self.widget_kind == "select":
            return [("Enter", "open list"), ("ctrl+j", "confirm"), ("Tab", "buttons"), ("Esc", "cancel")]
        return [("Enter", "confirm"), ("Esc", "cancel"), ("Tab", "buttons")]

    def answer(self) -> Any:
        """What Open WebUI returns on Confirm: the text, or the chosen option's value ("" if none)."""
        widget = self.query_one("#value")
        if isinstance(widget, Select):
            index = widget.value
            return "" if index is Select.NULL else self.options[index][1]  # type: ignore[index]
        if isinstance(widget, TextArea):
            return widget.text
        assert isinstance(widget, Input)
        return widget.value

    @on(Input.Submitted, "#value")
    @on(MultilineField.Submitted, "#value")
    def _submitted(self, event: Input.Submitted | MultilineField.Submitted) -> None:
        event.stop()
        self.action_confirm()


def dialog_for(event: Mapping[str, Any]) -> ModalScreen[Any] | None:
    """The dialog that answers this `__event_call__` event, or None when no dialog does."""
    request = read_event_call(event)
    if request is None:
        return None
    if request.kind == ConfirmationDialog.KIND:
        return ConfirmationDialog(request)
    if request.kind == InputDialog.KIND:
        return InputDialog(request)
    return None
