"""Dialogs that answer a pipe's `__event_call__`, returning what Open WebUI's browser would (spec §9).

* `{"type": "confirmation", "data": {"title", "message"}}` -> `ConfirmationDialog`: True on Confirm,
  False on Cancel.
* `{"type": "input", "data": {"title", "message", "placeholder", "value", "type", "options", "input"}}`
  -> `InputDialog`: the entered string (possibly "") on Confirm, False on Cancel.

`dialog_for(event)` picks one, or returns None for calls no dialog answers (`execute`, …).
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

from tuichat.ui.screens.prompts import DialogScreen

CONFIRMATION_TITLE = "Confirm your action"  # Open WebUI's title when a pipe gives none
INPUT_TITLE = "Input requested"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class MessageView(VerticalScroll):
    """The Markdown message, scrolling when long; focusable only when there is something to scroll."""

    DEFAULT_CSS = """
    MessageView {
        height: auto;
        max-height: 10;
        margin-bottom: 1;
        background: $surface;
        &:focus {
            background-tint: $foreground 5%;
        }
        Markdown {
            margin: 0;
            padding: 0;
            background: $surface;
        }
        MarkdownBlock:last-child {
            margin-bottom: 0;
        }
    }
    """

    def __init__(self, markdown: str) -> None:
        super().__init__(classes="dialog--message")
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        yield Markdown(self.markdown)

    def allow_focus(self) -> bool:
        return self.max_scroll_y > 0


class _EventDialog(DialogScreen[Any]):
    """The common frame: title, Markdown message, the body, Confirm/Cancel, key hints."""

    DEFAULT_CSS = """
    _EventDialog > .dialog {
        width: 72;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("ctrl+j", "confirm", "Confirm", id="dialog.submit"),
    ]

    def __init__(self, data: Mapping[str, Any] | None, default_title: str) -> None:
        super().__init__()
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        self.title_text = _text(self.data.get("title")) or default_title
        self.message = _text(self.data.get("message"))
        self.interaction_id = self.data.get("interaction_id")

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

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(data, CONFIRMATION_TITLE)

    def hints(self) -> list[tuple[str, str]]:
        return [("Enter", "confirm"), ("Esc", "cancel"), ("Tab", "move")]


class InputDialog(_EventDialog):
    """`{"type": "input"}`: the entered string on Confirm (possibly ""), False on Cancel.

    The field follows Open WebUI: a `Select` when `options` (or `input.options`) are given, a
    masked Input for type "password", a multi-line TextArea for type "textarea", else one line.
    """

    DEFAULT_CSS = """
    InputDialog TextArea {
        height: 6;
    }
    InputDialog.-textarea MessageView {
        max-height: 7;  /* with the TextArea, the whole dialog still fits 24 rows */
    }
    InputDialog Select {
        width: 1fr;
    }
    """

    AUTO_FOCUS = "#value"

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        super().__init__(data, INPUT_TITLE)
        nested = self.data.get("input")
        nested = nested if isinstance(nested, Mapping) else {}

        def field(name: str) -> Any:
            value = nested.get(name)
            return self.data.get(name) if value is None else value

        self.kind = _text(field("type")).strip().lower()
        self.placeholder = _text(field("placeholder"))
        self.value = _text(field("value"))
        options = field("options")
        self.options: list[tuple[str, Any]] = _options(options) if isinstance(options, (list, tuple)) else []
        if self.options:
            self.widget_kind = "select"
        elif self.kind == "textarea":
            self.widget_kind = "textarea"
        else:
            self.widget_kind = "input"
        self.password = self.kind == "password"
        self.add_class(f"-{self.widget_kind}")

    def compose_body(self) -> ComposeResult:
        if self.widget_kind == "select":
            values = [value for _, value in self.options]
            index = next((i for i, value in enumerate(values) if _text(value) == self.value), None)
            yield Select(
                [(label, i) for i, (label, _) in enumerate(self.options)],
                prompt=self.placeholder or "Choose…",
                allow_blank=index is None,
                value=Select.NULL if index is None else index,
                id="value",
            )
        elif self.widget_kind == "textarea":
            yield TextArea(self.value, id="value", soft_wrap=True, tab_behavior="focus", placeholder=self.placeholder)
        else:
            yield Input(self.value, placeholder=self.placeholder, password=self.password, id="value", select_on_focus=False)

    def hints(self) -> list[tuple[str, str]]:
        if self.widget_kind == "textarea":
            return [("ctrl+j", "confirm"), ("Enter", "newline"), ("Tab", "buttons"), ("Esc", "cancel")]
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
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()


def _options(options: list[Any] | tuple[Any, ...]) -> list[tuple[str, Any]]:
    """Open WebUI's options: strings, or `{label, value}` (either may be missing)."""
    result: list[tuple[str, Any]] = []
    for option in options:
        if isinstance(option, Mapping):
            value = option.get("value", option.get("label"))
            label = option.get("label", value)
            result.append((_text(label), "" if value is None else value))
        else:
            result.append((_text(option), option))
    return result


def dialog_for(event: Mapping[str, Any]) -> ModalScreen[Any] | None:
    """The dialog that answers this `__event_call__` event, or None when no dialog does."""
    if not isinstance(event, Mapping):
        return None
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    kind = event.get("type")
    if kind == "confirmation":
        return ConfirmationDialog(data)
    if kind == "input":
        return InputDialog(data)
    return None
