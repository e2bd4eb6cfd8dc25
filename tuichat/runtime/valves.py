"""Admin valves and user valves, as Open WebUI 0.12.4 applies and stores them (spec §5).

What a valves model's fields are, for the form and the CLI, and how a form's values become
stored valves, is `tuichat.runtime.valve_fields`.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from tuichat.runtime.errors import InvalidValves

MAX_NESTING = 64  # levels of lists and objects a valve value may hold (JSON itself stops near 1,000)


def apply_valves(instance: Any, stored: dict[str, Any] | None) -> None:
    """Reassign `instance.valves` before every call; a ValidationError propagates.

    Only when the instance has both `valves` and `Valves`: a pipe that declares the
    class but never sets `self.valves` gets nothing, as in Open WebUI.
    """
    if not (hasattr(instance, "valves") and hasattr(instance, "Valves")):
        return
    stored = stored or {}
    if stored:
        instance.valves = instance.Valves(**{k: v for k, v in stored.items() if v is not None})
    else:
        instance.valves = instance.Valves()


def user_valves_instance(instance: Any, stored: dict[str, Any] | None) -> Any:
    """`UserValves(**stored)`, falling back to defaults when the stored data is invalid."""
    try:
        return instance.UserValves(**(stored or {}))
    except Exception:
        return instance.UserValves()


def valves_class(instance: Any, user: bool) -> type[BaseModel] | None:
    cls = getattr(instance, "UserValves" if user else "Valves", None)
    return cls if isinstance(cls, type) and issubclass(cls, BaseModel) else None


def validate_for_storage(cls: type[BaseModel], values: dict[str, Any], *, label: str) -> dict[str, Any]:
    """What Open WebUI stores on save: None dropped, validated, only the fields set."""
    refuse_not_finite(values, label)
    cleaned = {k: v for k, v in values.items() if v is not None}
    try:
        model = cls(**cleaned)
    except ValidationError as exc:
        raise InvalidValves(f"invalid {label}: {exc}") from exc
    return dump_set(model)


def dump_set(model: BaseModel) -> dict[str, Any]:
    """The fields set, JSON-ready; a `SecretStr` keeps its text (JSON mode would mask it as `**********`)."""
    dumped = model.model_dump(exclude_unset=True, mode="json")
    for name in dumped:
        value = getattr(model, name, None)
        if isinstance(value, SecretStr):
            dumped[name] = value.get_secret_value()
    return dumped


def not_finite(value: Any, path: str = "") -> tuple[str, str] | None:
    """(where, what) of the first NaN or ±Infinity in a JSON-like value, or of nesting deeper
    than MAX_NESTING; None when there is none. JSON has no NaN or Infinity: a store that
    wrote them would hold text other programs (and Open WebUI) cannot read."""
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where, "NaN" if math.isnan(item) else ("Infinity" if item > 0 else "-Infinity")
        if isinstance(item, (dict, list)):
            if depth >= MAX_NESTING:
                return where, f"nested more than {MAX_NESTING} levels deep"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, inner in reversed(list(pairs)):
                inner_path = f"{where}[{key}]" if isinstance(key, int) else (f"{where}.{key}" if where else str(key))
                stack.append((inner, inner_path, depth + 1))
    return None


def refuse_not_finite(values: Any, label: str) -> None:
    """Raise InvalidValves when `values` hold NaN or ±Infinity (or nest absurdly deep)."""
    found = not_finite(values)
    if found is not None:
        where, what = found
        field_name = f"{where}: " if where else ""
        if what.startswith("nested"):
            raise InvalidValves(f"invalid {label}: {field_name}{what}; use a flatter value")
        raise InvalidValves(
            f"invalid {label}: {field_name}{what} is not a number JSON can store; "
            "give a finite number (like 0.5 or 1e9), or null to reset the field to its default"
        )
