"""Admin valves and user valves, as Open WebUI 0.12.4 applies and stores them (spec §5).

What a valves model's fields are, for the form and the CLI, and how a form's values become
stored valves, is `tuichat.runtime.valve_fields`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from tuichat.runtime.errors import InvalidValves


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
