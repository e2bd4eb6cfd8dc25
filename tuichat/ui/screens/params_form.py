"""The chat params fields (`tuichat.runtime.chat_params.FIELDS`) as a form: a label, a
one-line input and, under a field whose value is wrong, its error. Used by the chat params
dialog and the model settings screen; the checking is the runtime's (`parse_form`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from tuichat.runtime.chat_params import FIELDS, form_values, parse_form


class ParamsForm(Vertical):
    """Fields with ids `param-KEY`; `read()` gives (params, errors) and shows the errors."""

    DEFAULT_CSS = """
    ParamsForm { height: auto; }
    ParamsForm .param--row { height: 1; }
    ParamsForm .param--label { width: 18; }
    ParamsForm Input { width: 1fr; }
    ParamsForm .param--error { width: 1fr; color: $text-error; text-style: bold; display: none; padding-left: 18; }
    ParamsForm .param--error.-shown { display: block; }
    """

    def __init__(self, params: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial = form_values(params)

    def compose(self) -> ComposeResult:
        for field in FIELDS:
            with Horizontal(classes="param--row"):
                yield Label(field.label, classes="param--label")
                yield Input(self.initial.get(field.key, ""), placeholder=field.hint, id=f"param-{field.key}",
                            compact=True, select_on_focus=False)  # fmt: skip
            yield Static("", id=f"param-error-{field.key}", classes="param--error", markup=False)

    def values(self) -> dict[str, str]:
        return {field.key: self.query_one(f"#param-{field.key}", Input).value for field in FIELDS}

    def read(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The params the fields give, and the errors (shown under their fields)."""
        params, errors = parse_form(self.values())
        for field in FIELDS:
            error = self.query_one(f"#param-error-{field.key}", Static)
            error.update(errors.get(field.key, ""))
            error.set_class(field.key in errors, "-shown")
        if errors:
            first = next(f for f in FIELDS if f.key in errors)
            self.query_one(f"#param-{first.key}", Input).focus()
        return params, errors

    @property
    def changed(self) -> bool:
        return self.values() != self.initial

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field moves to the next one."""
        event.stop()
        self.screen.focus_next()
