"""Encoding column values: JSON columns, and the checks `update(**fields)` applies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# -- JSON columns ---------------------------------------------------------------


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dump_json_lenient(value: Any) -> str:
    """For data a pipe produced: an object json can't encode is kept as its str()
    rather than failing the save and losing the reply."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def load_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


# -- checked column values -------------------------------------------------------
# Used by the repos' `update(**fields)`: wrong types are refused rather than
# coerced, so e.g. name=None can never be stored as the text "None".


def object_json(value: object) -> str:
    if not isinstance(value, Mapping):
        raise TypeError(f"Expected a dict, got {type(value).__name__}")
    return dump_json(dict(value))


def string_list_json(value: object) -> str:
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise TypeError(f"Expected a list of str, got {value!r}")
    return dump_json(list(value))


def require_str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"Expected a str, got {type(value).__name__}")
    return value


def optional_str(value: object) -> str | None:
    return None if value is None else require_str(value)


def require_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"Expected a bool, got {type(value).__name__}")
    return value


def require_choice(value: object, choices: Iterable[str], what: str) -> str:
    allowed = tuple(choices)
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def check_fields(
    fields: Mapping[str, object], checkers: Mapping[str, Callable[[object], object]]
) -> dict[str, object]:
    """Check `update(**fields)`: known names only, each value checked and encoded."""
    unknown = fields.keys() - checkers.keys()
    if unknown:
        raise TypeError(f"Cannot update field(s): {', '.join(sorted(unknown))}")
    return {name: checkers[name](value) for name, value in fields.items()}

