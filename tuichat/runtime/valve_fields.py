"""One description of a valves model's fields, read by the valves form and `tuichat pipes valves`.

`valve_fields(cls, stored)` gives a `ValveField` per field: its type name, default, effective
value, whether it is set, description, kind of editor (text, number, switch, select with its
options, secret, JSON). `parse_form` turns a form's values back into what is stored (spec §5.1).
Both run the pipe's own classes, so they run in the pipe host (`tuichat.runtime.valve_checks`);
the app gets the fields as JSON (`ValveField.to_json`) and reads a stored function's valves
with `tuichat.runtime.function_valves`. Pure data: the Textual screen
(`tuichat.ui.screens.valves_form`) only draws it.
"""

from __future__ import annotations

import enum
import inspect
import json
import math
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import to_jsonable_python

from tuichat.runtime.valve_names import unknown_names, unknown_names_message
from tuichat.runtime.valves import dump_set, not_finite

FieldKind = Literal["text", "int", "float", "bool", "select", "secret", "json"]
FORM_ERROR = "__form__"  # the `parse_form` error key for errors no single field owns
# Words in a field name that mark a secret (only for text fields): `OPENAI_API_KEY`, `apiKey`,
# `auth_token`, `client_secret`, `PASSWORD`; not `KEYWORDS`, `MAX_TOKENS` (an int) or `TOKENIZER`.
SECRET_WORDS = frozenset(
    {"key", "keys", "apikey", "apikeys", "token", "tokens", "secret", "secrets", "password", "passwords",
     "passwd", "pwd", "passphrase", "credential", "credentials"}
)  # fmt: skip
_SECRET_TYPE_NAME = re.compile(r"encrypt|secret|password", re.IGNORECASE)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


@dataclass(frozen=True)
class Option:
    """One choice of a select field: what is shown, and the value stored."""

    label: str
    value: Any


@dataclass
class ValveField:
    """One field of a `Valves`/`UserValves` model, as the form and the CLI show it.

    `value` is the effective value (the stored one when `is_set`, else the default), JSON-ready
    like stored valves. `required`: no default, so the model cannot be built without it.
    `optional`: the type admits None, so a blank entry means "unset".
    """

    name: str
    title: str
    kind: FieldKind
    description: str = ""
    default: Any = None
    value: Any = None
    is_set: bool = False
    required: bool = False
    optional: bool = False
    options: list[Option] = field(default_factory=list)
    type_name: str = ""

    @property
    def secret(self) -> bool:
        """A credential: the form masks it until asked (F4)."""
        return self.kind == "secret"

    @property
    def raw(self) -> Any:
        """The form value showing `value` (see `to_raw`)."""
        return to_raw(self, self.value)

    @property
    def default_raw(self) -> Any:
        """The form value showing the default: what "reset to default" puts back."""
        return to_raw(self, None if self.required else self.default)

    def option_index(self, value: Any) -> int | None:
        """The position of the option holding `value`, or None."""
        return next((i for i, option in enumerate(self.options) if _same(option.value, value)), None)

    def to_json(self) -> dict[str, Any]:
        """What the pipe host sends the app: every attribute, and `secret` for other readers."""
        data = {f.name: getattr(self, f.name) for f in dataclass_fields(self) if f.name != "options"}
        return data | {"secret": self.secret, "options": [{"label": o.label, "value": o.value} for o in self.options]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ValveField:
        own = {f.name for f in dataclass_fields(cls)} - {"options"}
        options = [Option(str(o.get("label", "")), o.get("value")) for o in data.get("options") or ()]
        return cls(**{k: v for k, v in data.items() if k in own}, options=options)


def to_raw(valve: ValveField, value: Any) -> Any:
    """A value as the form holds it: text for text, secret, int, float and json fields, a bool
    for bool fields, and for select fields the matching option's value (None when none matches).
    """
    value = _plain(value)
    if valve.kind == "bool":
        return bool(value)
    if valve.kind == "select":
        index = valve.option_index(value)
        return None if index is None else valve.options[index].value
    if value is None:
        return ""
    if valve.kind == "json":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def valve_fields(cls: type[BaseModel], stored: Mapping[str, Any] | None, *, user: Any = None) -> list[ValveField]:
    """Each field of `cls`, in the model's order, with the stored values (`None` counts as unset).

    `user` is passed to an options method that asks for `__user__` or `user`, as Open WebUI's
    `resolve_valves_schema_options` does.
    """
    stored = stored or {}
    fields = []
    for name, info in cls.model_fields.items():
        inner, optional = _unwrap(info.annotation)
        required = info.is_required()
        default = None if required else _plain(_default(info))
        is_set = stored.get(name) is not None
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        spec = extra.get("input")
        kind, options = _kind(name, inner, spec if isinstance(spec, dict) else {}, cls, user)
        valve = ValveField(
            name=name,
            title=info.title or name,
            kind=kind,
            description=info.description or "",
            default=default,
            value=_plain(stored[name]) if is_set else default,
            is_set=is_set,
            required=required,
            optional=optional,
            options=options,
            type_name=_readable_type(info.annotation),
        )
        if kind == "select" and is_set and valve.option_index(valve.value) is None:
            # A stored value the options no longer offer stays choosable rather than lost.
            valve.options.append(Option(f"{_label(valve.value)} (stored)", valve.value))
        fields.append(valve)
    return fields


def parse_form(
    cls: type[BaseModel], raw: Mapping[str, Any], *, fields: list[ValveField] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the form's values into what `FunctionLibrary.set_valves(..., merge=False)` stores.

    `raw` maps a field name to its form value (as `to_raw` gives it); a missing key or None means
    the field is unset (its default applies). A blank text of an optional field is unset too.
    Returns `(values, errors)`: `values` has every field, None for the unset ones, the rest
    validated and JSON-ready; `errors` maps a field name (or `FORM_ERROR`) to its message.
    `values` is only meaningful when `errors` is empty.
    """
    fields = fields if fields is not None else valve_fields(cls, {})
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    candidate: dict[str, Any] = {}
    for valve in fields:
        values[valve.name] = None
        entry = raw.get(valve.name)
        if entry is None:
            continue
        try:
            value = _from_raw(valve, entry)
        except ValueError as exc:
            errors[valve.name] = str(exc)
            continue
        if value is not None:
            candidate[valve.name] = value
        unknown = unknown_names(cls, {valve.name: value}) if isinstance(value, dict) else []
        if unknown:  # a JSON field for a nested model: pydantic would drop the key silently
            errors[valve.name] = unknown_names_message(cls, unknown)
    try:
        model = cls(**candidate)
    except ValidationError as exc:
        for name, message in _field_errors(cls, exc).items():
            errors.setdefault(name, message)  # a field that failed to parse keeps that message
        return values, errors
    if errors:
        return values, errors
    values.update(dump_set(model))
    return values, errors


def _from_raw(valve: ValveField, entry: Any) -> Any:
    """One form value converted for validation; None when it means "unset"; ValueError if unusable."""
    if valve.kind == "bool":
        if isinstance(entry, str):
            return entry.strip().lower() in ("1", "true", "yes", "on")
        return bool(entry)
    if valve.kind == "select":
        return None if entry == "" and valve.optional else entry
    text = entry if isinstance(entry, str) else str(entry)
    if valve.kind in ("text", "secret"):
        return None if text == "" and valve.optional else text
    text = text.strip()
    if not text:
        if valve.optional:
            return None
        raise ValueError({"int": "Enter a whole number", "float": "Enter a number"}.get(valve.kind, "Enter a JSON value"))
    if valve.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"Not a whole number: {text}") from None
    if valve.kind == "float":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"Not a number: {text}") from None
        if not math.isfinite(number):
            raise ValueError(f"{text} is not a finite number, and JSON cannot store NaN or Infinity: enter a number like 0.5")
        return number
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Not valid JSON ({exc.msg} at column {exc.colno}); strings need double quotes") from None
    except RecursionError:
        raise ValueError("Nested too deeply to read: use a flatter value") from None
    if (found := not_finite(value)) is not None:
        where, what = found
        at = f" at {where}" if where else ""
        if what.startswith("nested"):
            raise ValueError(f"Nested too deeply{at} ({what}): use a flatter value")
        raise ValueError(f"{what}{at} is not valid JSON, and cannot be stored: use a finite number, or null")
    return value


def _field_errors(cls: type[BaseModel], exc: ValidationError) -> dict[str, str]:
    """pydantic's errors by field (loc[0], by name or alias); the rest under FORM_ERROR."""
    names = {name: name for name in cls.model_fields}
    names.update({info.alias: name for name, info in cls.model_fields.items() if info.alias})
    grouped: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False):
        loc = error.get("loc") or ()
        name = names.get(loc[0]) if loc and isinstance(loc[0], str) else None
        message = _message(error)
        rest = loc[1:] if name else loc
        if rest:
            message = f"{''.join(f'[{part}]' if isinstance(part, int) else f'.{part}' for part in rest).lstrip('.')}: {message}"
        grouped.setdefault(name or FORM_ERROR, []).append(message)
    return {name: "; ".join(messages) for name, messages in grouped.items()}


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "missing":
        return "Required: enter a value"
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _kind(
    name: str, inner: Any, spec: Mapping[str, Any], cls: type[BaseModel], user: Any
) -> tuple[FieldKind, list[Option]]:
    input_type = str(spec.get("type") or "").lower()
    if input_type == "select":
        options = _resolve_options(spec.get("options"), cls, user)
        if options is not None:
            return "select", options
    if input_type == "password":
        return "secret", []
    if get_origin(inner) is Literal:
        return "select", [Option(_label(value), _plain(value)) for value in get_args(inner) if value is not None]
    if isinstance(inner, type):
        if issubclass(inner, enum.Enum):
            return "select", [Option(_label(member.value), _plain(member.value)) for member in inner]
        if issubclass(inner, bool):
            return "bool", []
        if issubclass(inner, int):
            return "int", []
        if issubclass(inner, float):
            return "float", []
        if issubclass(inner, SecretStr):
            return "secret", []
        if issubclass(inner, str):
            if inner is not str and _SECRET_TYPE_NAME.search(inner.__name__):
                return "secret", []  # EncryptedStr, SecretString, …
            return ("secret" if looks_secret(name) else "text"), []
    return "json", []


def looks_secret(name: str) -> bool:
    """Whether a field name reads like a credential (see SECRET_WORDS)."""
    return any(word.lower() in SECRET_WORDS for word in _WORDS.findall(name))


def _resolve_options(options: Any, cls: type[BaseModel], user: Any) -> list[Option] | None:
    """`input.options`: a list, or the name of a method of `cls` returning one (spec §5.1)."""
    if isinstance(options, str) and options:
        method = getattr(cls, options, None)
        if not callable(method):
            return None
        try:
            params = inspect.signature(method).parameters
            kwargs = {key: user for key in ("__user__", "user") if key in params and user is not None}
            options = method(**kwargs)
        except Exception:  # noqa: BLE001 - Open WebUI logs it and skips the options
            return None
    if not isinstance(options, (list, tuple)):
        return None
    result = []
    for option in options:
        if isinstance(option, Mapping):
            value = option.get("value", option.get("label"))
            label = option.get("label", value)
            result.append(Option(_label(label), _plain(value)))
        else:
            result.append(Option(_label(option), _plain(option)))
    return result


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type without None and Annotated, whether None is allowed)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        rest = [arg for arg in args if arg is not type(None)]
        optional = len(rest) < len(args)
        if len(rest) == 1:
            inner, _ = _unwrap(rest[0])
            return inner, optional
        return Union[tuple(rest)], optional  # noqa: UP007 - a union edited as JSON
    if annotation is None or annotation is type(None):
        return Any, True
    if get_origin(annotation) is Literal and None in get_args(annotation):
        return annotation, True
    return annotation, False


def _readable_type(annotation: Any) -> str:
    """`int`, `Optional[int]`, `list[str]`, `Literal['a', 'b']`: without module prefixes."""
    if isinstance(annotation, type) and not get_args(annotation):
        return annotation.__name__
    return re.sub(r"\b(?:[A-Za-z_][A-Za-z0-9_]*\.)+(?=[A-Za-z_])", "", str(annotation))


def _default(info: Any) -> Any:
    try:
        return info.get_default(call_default_factory=True)
    except (TypeError, ValueError):  # a default_factory that wants the validated data (pydantic 2.10+: ValueError)
        return None


def _plain(value: Any) -> Any:
    """JSON-ready, as stored valves are: enums give their value; secrets their text."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    try:
        return to_jsonable_python(value)
    except Exception:  # noqa: BLE001 - a default no JSON can hold is shown as text
        return str(value)


def _label(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(_plain(value), ensure_ascii=False)


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (so `1`, `1.0` and `True` are three options)."""
    return a == b and type(a) is type(b)
