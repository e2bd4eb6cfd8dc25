"""What an `__event_call__` asks, read as Open WebUI's browser reads it (spec §9): one reader
for the TUI's dialogs, `tuichat run`'s prompts and `--reply` answers, the activity line
that shows a call (`present.describe_call`) and the masking of a password answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class EventCallRequest:
    """What an `__event_call__` asks, read as Open WebUI's browser reads it (spec §9).

    `kind` is "confirmation" or "input" for the calls a terminal can answer (others keep
    their type). An input's fields may sit in `data` or in `data["input"]`, the nested
    one winning; `options` are `(label, value)` pairs from strings or `{label, value}`.
    """

    kind: str
    title: str = ""
    message: str = ""
    placeholder: str = ""
    value: str = ""
    input_type: str = ""  # "password", "textarea", ... ("" for a plain line)
    options: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def password(self) -> bool:
        return self.input_type == "password"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def read_event_call(event: Any) -> EventCallRequest | None:
    """The request an `__event_call__` event makes, None when it is not an event dict."""
    if not isinstance(event, Mapping):
        return None
    data = event.get("data")
    data = data if isinstance(data, Mapping) else {}
    nested = data.get("input")
    nested = nested if isinstance(nested, Mapping) else {}

    def pick(name: str) -> Any:
        value = nested.get(name)
        return data.get(name) if value is None else value

    options = pick("options")
    return EventCallRequest(
        kind=_text(event.get("type")),
        title=_text(data.get("title")),
        message=_text(data.get("message")),
        placeholder=_text(pick("placeholder")),
        value=_text(pick("value")),
        input_type=_text(pick("type")).strip().lower(),
        options=_options(options) if isinstance(options, (list, tuple)) else [],
    )


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
