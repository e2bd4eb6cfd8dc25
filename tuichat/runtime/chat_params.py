"""Chat params as a form edits them: the fields Open WebUI's chat controls offer
(temperature, top_p, max_tokens, seed, stop, reasoning_effort, function_calling) and custom
keys as a JSON object. A chat's params (its row's `params`) and a model's (its settings
row's `params`) are both edited with these; the turn passes them on (`Turn(params=...)`),
and Open WebUI's merge puts them in the body and `__metadata__["params"]`.

`parse_form` turns the fields' text into params, or says per field what is wrong;
`form_values` is the way back; `summary` is the short form the chat header shows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["float", "int", "stop", "text", "choice", "json"]


@dataclass(frozen=True)
class ParamField:
    key: str
    label: str
    kind: Kind
    hint: str
    low: float | None = None
    high: float | None = None


FIELDS: tuple[ParamField, ...] = (
    ParamField("temperature", "Temperature", "float", "0 to 2: higher is more random", 0, 2),
    ParamField("top_p", "Top p", "float", "0 to 1: nucleus sampling", 0, 1),
    ParamField("max_tokens", "Max tokens", "int", "a whole number, 1 or more", 1, None),
    ParamField("seed", "Seed", "int", "a whole number, for repeatable replies", None, None),
    ParamField("stop", "Stop", "stop", 'sequences, comma-separated, or a JSON list like ["\\n\\n", "END"]'),
    ParamField("reasoning_effort", "Reasoning effort", "text", "e.g. low, medium, high"),
    ParamField("function_calling", "Function calling", "choice", "native (default) or legacy"),
    ParamField("custom", "Custom", "json", 'other params as a JSON object, e.g. {"num_ctx": 8192}'),
)
NAMED = tuple(f.key for f in FIELDS if f.key != "custom")
CHOICES = {"function_calling": ("native", "legacy")}
# Keys that have a place of their own: the system prompt has its field (or F4 in a chat).
RESERVED = {"system": "the system prompt has its own field"}


def form_values(params: Mapping[str, Any]) -> dict[str, str]:
    """The form's text for stored `params` (unknown keys go to `custom`)."""
    values: dict[str, str] = {}
    for f in FIELDS:
        if f.key == "custom":
            continue
        value = params.get(f.key)
        if value is None:
            values[f.key] = ""
        elif f.kind == "stop":
            values[f.key] = (
                ", ".join(value) if isinstance(value, list) and all("," not in str(v) for v in value) else json.dumps(value)
            )
        else:
            values[f.key] = str(value)
    custom = {k: v for k, v in params.items() if k not in NAMED and k not in RESERVED}
    values["custom"] = json.dumps(custom, ensure_ascii=False) if custom else ""
    return values


def parse_form(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(params, errors by field key). An empty field sets nothing."""
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in FIELDS:
        text = (values.get(f.key) or "").strip()
        if not text:
            continue
        try:
            parsed = _parse(f, text)
        except ValueError as error:
            errors[f.key] = f"{f.label}: {error}"
            continue
        if f.key == "custom":
            params.update(parsed)
        else:
            params[f.key] = parsed
    return params, errors


def _parse(f: ParamField, text: str) -> Any:
    if f.kind in ("float", "int"):
        return _number(f, text)
    if f.kind == "stop":
        return _stop(text)
    if f.kind == "choice":
        choices = CHOICES[f.key]
        if text not in choices:
            raise ValueError(f"{text!r} is not one of {', '.join(choices)}")
        return text
    if f.kind == "json":
        return _custom(text)
    return text


def _number(f: ParamField, text: str) -> float | int:
    what = "a whole number" if f.kind == "int" else "a number"
    try:
        value: float | int = int(text) if f.kind == "int" else float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not {what}") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number (JSON cannot store it)")
    if (f.low is not None and value < f.low) or (f.high is not None and value > f.high):
        bounds = f"{f.low:g} to {f.high:g}" if f.high is not None else f"{f.low:g} or more"
        raise ValueError(f"{text} is out of range: give {bounds}")
    return value


def _stop(text: str) -> list[str]:
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError as error:
            raise ValueError(f"not a valid JSON list ({error})") from None
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError("the JSON list must hold non-empty strings only")
        return value
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ValueError("give at least one sequence")
    return parts


def _custom(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except ValueError as error:
        raise ValueError(f"not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError('must be a JSON object like {"num_ctx": 8192}')
    for key in value:
        if key in NAMED:
            raise ValueError(f"'{key}' has its own field above: set it there")
        if key in RESERVED:
            raise ValueError(f"'{key}': {RESERVED[key]}")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (JSON cannot store it)")


SHORT = {"temperature": "t", "top_p": "p", "max_tokens": "max", "seed": "seed", "reasoning_effort": "effort"}


def summary(params: Mapping[str, Any]) -> str:
    """The chat header's short form: `t0.2 p0.9 max500 seed1 stop×2 effort:low legacy +1`."""
    parts: list[str] = []
    for key in ("temperature", "top_p", "max_tokens", "seed"):
        if params.get(key) is not None:
            parts.append(f"{SHORT[key]}{params[key]:g}" if isinstance(params[key], float) else f"{SHORT[key]}{params[key]}")
    stop = params.get("stop")
    if stop:
        parts.append(f"stop×{len(stop)}" if isinstance(stop, list) else "stop")
    if params.get("reasoning_effort"):
        parts.append(f"effort:{params['reasoning_effort']}")
    if params.get("function_calling") == "legacy":
        parts.append("legacy")
    others = [k for k in params if k not in NAMED and k not in RESERVED]
    if others:
        parts.append(f"+{len(others)}")
    return " ".join(parts)
