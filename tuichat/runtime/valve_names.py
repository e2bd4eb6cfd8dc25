"""Valve names a class does not have: refused with the names it does have.

pydantic ignores a key no field takes, and Open WebUI stores what is left, so a misspelt
`--set '{"API_KY": ...}'` used to be stored as nothing and said nothing. What a person
types (`--set`, a form's JSON field for a nested model) must name real fields; what is
stored already (an import, older keys) is left to pydantic as Open WebUI does. Runs in the
pipe host: the classes are pipe code.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel


def field_names(cls: type[BaseModel]) -> list[str]:
    """The names a valves class takes, in its order (an alias beside its field's name)."""
    names: list[str] = []
    for name, info in cls.model_fields.items():
        names.append(name)
        if info.alias and info.alias != name:
            names.append(info.alias)
    return names


def takes_any_key(cls: type[BaseModel]) -> bool:
    return cls.model_config.get("extra") == "allow"


def unknown_names(cls: type[BaseModel], values: Mapping[str, Any], keys: Iterable[str] | None = None) -> list[str]:
    """The keys of `values` (only `keys`, when given) that `cls` has no field for, and, inside
    a value for a field that is itself a model, the keys that model lacks (`FIELD.key`)."""
    if takes_any_key(cls):
        return []
    known = set(field_names(cls))
    unknown: list[str] = []
    for key in values if keys is None else keys:
        if key not in known:
            unknown.append(key)
            continue
        inner = nested_model(cls, key)
        value = values.get(key)
        if inner is not None and isinstance(value, Mapping):
            unknown += [f"{key}.{name}" for name in unknown_names(inner, value)]
    return unknown


def nested_model(cls: type[BaseModel], key: str) -> type[BaseModel] | None:
    """The model class a field holds (`Inner` or `Inner | None`), None for anything else."""
    info = cls.model_fields.get(key) or next((i for i in cls.model_fields.values() if i.alias == key), None)
    if info is None:
        return None
    annotation = info.annotation
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (typing.Union, types.UnionType) else (annotation,)
    models = [option for option in options if isinstance(option, type) and issubclass(option, BaseModel)]
    return models[0] if len(models) == 1 else None


def unknown_names_message(cls: type[BaseModel], unknown: list[str]) -> str:
    """`no valve named 'NOPE'; the valves are A, B (...)`; for keys inside a field, that field's keys."""
    top = [name for name in unknown if "." not in name]
    if top:
        named = ", ".join(f"'{name}'" for name in top)
        listed = ", ".join(field_names(cls)) or "none"
        return f"no valve{'s' if len(top) > 1 else ''} named {named}; the valves are {listed} (names are case-sensitive)"
    field = unknown[0].partition(".")[0]
    inner = nested_model(cls, field)
    named = ", ".join(f"'{name.partition('.')[2]}'" for name in unknown if name.startswith(field + "."))
    listed = ", ".join(field_names(inner)) if inner is not None else "none"
    return f"{field} has no key {named}; its keys are {listed} (names are case-sensitive)"
