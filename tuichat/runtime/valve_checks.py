"""A function's valves read and checked with its own pydantic classes: this runs in the pipe host.

`Valves` and `UserValves` are pipe code (validators, options methods, default factories), so
the app never runs them: the host answers `valves.describe` (the fields, as JSON) and
`valves.check` (values to store, or what is wrong with them) with these, and the app stores
what comes back (`tuichat.runtime.function_valves`, `FunctionLibrary.set_valves`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from tuichat.runtime.errors import InvalidValves
from tuichat.runtime.reply.model import json_safe
from tuichat.runtime.valve_fields import FORM_ERROR, parse_form, valve_fields
from tuichat.runtime.valve_names import unknown_names, unknown_names_message
from tuichat.runtime.valves import validate_for_storage, valves_class


def valves_model(instance: Any, function_id: str, user: bool) -> type[BaseModel]:
    cls = valves_class(instance, user)
    if cls is None:
        kind = "UserValves" if user else "Valves"
        raise InvalidValves(f"function '{function_id}' has no {kind} class, so it has no {'user ' if user else ''}valves to set.")
    return cls


def describe(instance: Any, function_id: str, *, user: bool, stored: Mapping[str, Any], local_user: Any) -> dict[str, Any]:
    """`{"model": class name, "fields": [ValveField.to_json(), ...]}`; options methods get `local_user`."""
    cls = valves_model(instance, function_id, user)
    return {"model": cls.__name__, "fields": [f.to_json() for f in valve_fields(cls, stored, user=local_user)]}


def check(
    instance: Any, function_id: str, *, user: bool, form: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None, label: str = "valves", no_class_ok: bool = False,
    typed: list[str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Validate a form's raw values (`parse_form`) or stored-form `values` (`validate_for_storage`).

    `{"values": what to store, "errors": {}}`, or `{"values": None, "errors": {field: message},
    "message": one line for a command, "details": pydantic's errors as JSON}`. `no_class_ok`:
    a function with no such class takes `values` as they are (an import keeps them). `typed`:
    the keys of `values` a person gave, which must name fields (`valve_names`)."""
    if no_class_ok and valves_class(instance, user) is None:
        return {"values": dict(values or {}), "errors": {}}
    cls = valves_model(instance, function_id, user)
    if form is not None:
        parsed, errors = parse_form(cls, form)
        return {"values": None if errors else parsed, "errors": errors}
    unknown = unknown_names(cls, values or {}, typed) if typed else []
    if unknown:
        message = unknown_names_message(cls, unknown)
        errors = {name.partition(".")[0]: message for name in unknown}
        return {"values": None, "message": f"invalid {label}: {message}", "errors": errors, "details": []}
    try:
        return {"values": validate_for_storage(cls, dict(values or {}), label=label), "errors": {}}
    except InvalidValves as error:
        cause = error.__cause__
        details = cause.errors(include_url=False) if isinstance(cause, ValidationError) else []
        return {
            "values": None, "message": str(error),
            "errors": {str(d["loc"][0]) if d.get("loc") else FORM_ERROR: str(d.get("msg", "invalid")) for d in details},
            "details": [{"loc": list(d.get("loc", ())), "msg": d.get("msg"), "type": d.get("type"), "input": json_safe(d.get("input"))}
                        for d in details],
        }  # fmt: skip
