"""The one description of valves fields (`valve_fields`), read by the form and the CLI, and the
form's parsing (`parse_form`): pure, no Textual.

What is stored follows Open WebUI (spec §5.1): only the fields the user set, validated, None
dropped; a field reset to its default is not stored at all.
"""

from __future__ import annotations

import json
import runpy
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any, Literal, Optional

import pytest
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_core import core_schema

from tuichat.runtime.function_valves import check_form, read_function_valves
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.valve_fields import (
    FORM_ERROR,
    Option,
    ValveField,
    looks_secret,
    parse_form,
    to_raw,
    valve_fields,
)
from tuichat.runtime.valves import validate_for_storage

PIPE_FILE = Path(__file__).parent / "pipes" / "valves_form_pipe.py"


class Colour(str, Enum):
    RED = "red"
    GREEN = "green"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class EncryptedStr(str):
    """How published pipes mark a valve they encrypt at rest (a `str` subclass with its own schema)."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())


class Kinds(BaseModel):
    NAME: str = Field(default="bot", title="Display name", description="Shown in replies.")
    COUNT: int = 3
    RATIO: float = 0.5
    ON: bool = False
    MODE: Literal["a", "b"] = "a"
    COLOUR: Colour = Colour.GREEN
    LEVEL: Level = Level.LOW
    STYLE: str = Field(
        default="p",
        json_schema_extra={"input": {"type": "select", "options": ["p", {"value": "m", "label": "Markdown"}, {"value": "h"}]}},
    )
    API_KEY: str = ""
    VAULT: EncryptedStr = EncryptedStr("")
    TOKEN_SECRET: SecretStr = SecretStr("")
    PIN: str = Field(default="", json_schema_extra={"input": {"type": "password"}})
    TAGS: list[str] = Field(default_factory=lambda: ["x"])
    EXTRA: dict[str, int] = {}
    NOTE: Optional[str] = None  # noqa: UP045 - Optional[...] on purpose
    LIMIT: int | None = None


def by_name(fields: list[ValveField]) -> dict[str, ValveField]:
    return {f.name: f for f in fields}


def test_every_kind_of_field() -> None:
    fields = by_name(valve_fields(Kinds, {}))
    assert [f.name for f in valve_fields(Kinds, {})] == list(Kinds.model_fields)  # the model's order
    assert {name: f.kind for name, f in fields.items()} == {
        "NAME": "text", "COUNT": "int", "RATIO": "float", "ON": "bool", "MODE": "select", "COLOUR": "select",
        "LEVEL": "select", "STYLE": "select", "API_KEY": "secret", "VAULT": "secret", "TOKEN_SECRET": "secret",
        "PIN": "secret", "TAGS": "json", "EXTRA": "json", "NOTE": "text", "LIMIT": "int",
    }  # fmt: skip
    name = fields["NAME"]
    assert (name.title, name.description, name.default, name.value, name.is_set) == ("Display name", "Shown in replies.", "bot", "bot", False)
    assert fields["COUNT"].title == "COUNT"  # no title: the field name
    assert fields["TAGS"].default == ["x"]  # default_factory is called
    assert fields["COLOUR"].default == "green"  # JSON-ready, like stored valves
    assert (fields["NOTE"].type_name, fields["LIMIT"].type_name) == ("Optional[str]", "int | None")  # as written
    assert fields["TAGS"].type_name == "list[str]" and fields["COLOUR"].type_name == "Colour"


def test_raw_form_values_of_each_kind() -> None:
    fields = by_name(valve_fields(Kinds, {"COUNT": 7, "ON": True, "TAGS": ["a", "b"], "COLOUR": "red"}))
    assert fields["COUNT"].raw == "7" and fields["COUNT"].default_raw == "3"
    assert fields["RATIO"].raw == "0.5"
    assert fields["ON"].raw is True and fields["ON"].default_raw is False
    assert fields["TAGS"].raw == '["a", "b"]' and fields["TAGS"].default_raw == '["x"]'
    assert fields["EXTRA"].raw == "{}"
    assert fields["COLOUR"].raw == "red" and fields["COLOUR"].default_raw == "green"
    assert fields["NOTE"].raw == "" and fields["LIMIT"].raw == ""  # unset optional: blank
    assert to_raw(fields["TOKEN_SECRET"], SecretStr("s3")) == "s3"


def test_stored_values_are_set_and_none_counts_as_unset() -> None:
    fields = by_name(valve_fields(Kinds, {"COUNT": 9, "NOTE": None, "GONE": 1}))
    assert (fields["COUNT"].is_set, fields["COUNT"].value, fields["COUNT"].default) == (True, 9, 3)
    assert (fields["NOTE"].is_set, fields["NOTE"].value) == (False, None)
    assert "GONE" not in fields  # a stored key the model no longer has is not a field


def test_select_options_from_literal_enum_and_input_options() -> None:
    fields = by_name(valve_fields(Kinds, {}))
    assert fields["MODE"].options == [Option("a", "a"), Option("b", "b")]
    assert fields["COLOUR"].options == [Option("red", "red"), Option("green", "green")]
    assert fields["LEVEL"].options == [Option("1", 1), Option("2", 2)]  # the values, as stored
    # Open WebUI's convention: a string, or {"value", "label"} where the label defaults to the value.
    assert fields["STYLE"].options == [Option("p", "p"), Option("Markdown", "m"), Option("h", "h")]
    assert fields["STYLE"].option_index("m") == 1 and fields["LEVEL"].option_index(True) is None


def test_options_named_by_a_method_get_the_user() -> None:
    class Dynamic(BaseModel):
        MODEL: str = Field(default="", json_schema_extra={"input": {"type": "select", "options": "models"}})
        BROKEN: str = Field(default="x", json_schema_extra={"input": {"type": "select", "options": "explode"}})
        MISSING: str = Field(default="x", json_schema_extra={"input": {"type": "select", "options": "nowhere"}})

        @classmethod
        def models(cls, __user__: Any = None) -> list[Any]:
            return [{"value": "m1", "label": f"M1 for {__user__['name']}"}, "m2"]

        @classmethod
        def explode(cls) -> list[Any]:
            raise RuntimeError("no")

    fields = by_name(valve_fields(Dynamic, {}, user={"name": "Ada"}))
    assert fields["MODEL"].kind == "select"
    assert fields["MODEL"].options == [Option("M1 for Ada", "m1"), Option("m2", "m2")]
    assert fields["MODEL"].raw is None  # the default "" is no option: the select starts blank
    # Options that cannot be had: the field is edited as its type says, as Open WebUI skips them.
    assert fields["BROKEN"].kind == "text" and fields["MISSING"].kind == "text"


def test_a_stored_value_the_options_lack_stays_choosable() -> None:
    style = by_name(valve_fields(Kinds, {"STYLE": "old"}))["STYLE"]
    assert style.options[-1] == Option("old (stored)", "old")
    assert style.raw == "old"


def test_optional_fields() -> None:
    fields = by_name(valve_fields(Kinds, {}))
    assert fields["NOTE"].optional and fields["LIMIT"].optional and not fields["COUNT"].optional
    values, errors = parse_form(Kinds, {"NOTE": "", "LIMIT": "  "})
    assert errors == {}
    assert values["NOTE"] is None and values["LIMIT"] is None  # blank optional: unset
    values, errors = parse_form(Kinds, {"NOTE": "hi", "LIMIT": "12"})
    assert (values["NOTE"], values["LIMIT"], errors) == ("hi", 12, {})


def test_required_fields() -> None:
    class Needs(BaseModel):
        URL: str
        RETRIES: int = 2

    url = by_name(valve_fields(Needs, {}))["URL"]
    assert (url.required, url.default, url.raw, url.default_raw) == (True, None, "", "")
    assert parse_form(Needs, {})[1] == {"URL": "Required: enter a value"}
    values, errors = parse_form(Needs, {"URL": "http://x"})
    assert errors == {} and values == {"URL": "http://x", "RETRIES": None}


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("API_KEY", True), ("OPENAI_API_KEY", True), ("apiKey", True), ("APIKey", True), ("apikey", True),
        ("auth_token", True), ("ACCESS_TOKENS", True), ("client_secret", True), ("PASSWORD", True), ("db_passwd", True),
        ("KEYWORDS", False), ("TOKENIZER", False), ("MONKEY", False), ("PREFIX", False), ("secretary", False),
    ],
)  # fmt: skip
def test_secret_looking_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_secret_detection_applies_to_text_fields_only() -> None:
    class Model(BaseModel):
        MAX_TOKENS: int = 5
        KEYWORDS: str = ""
        api_key: Optional[str] = None  # noqa: UP045 - Optional[...] on purpose

    fields = by_name(valve_fields(Model, {}))
    assert (fields["MAX_TOKENS"].kind, fields["KEYWORDS"].kind, fields["api_key"].kind) == ("int", "text", "secret")


def test_parse_converts_each_kind_to_stored_values() -> None:
    raw = {
        "NAME": "", "COUNT": " 12 ", "RATIO": "1e-1", "ON": True, "MODE": "b", "COLOUR": "red", "LEVEL": 2,
        "STYLE": "m", "API_KEY": "sk-1", "VAULT": "v", "TOKEN_SECRET": "t", "PIN": "0000",
        "TAGS": '["a", "b"]', "EXTRA": '{"n": 1}', "NOTE": "n", "LIMIT": "-4",
    }  # fmt: skip
    values, errors = parse_form(Kinds, raw)
    assert errors == {}
    assert values == {
        "NAME": "", "COUNT": 12, "RATIO": 0.1, "ON": True, "MODE": "b", "COLOUR": "red", "LEVEL": 2,
        "STYLE": "m", "API_KEY": "sk-1", "VAULT": "v", "TOKEN_SECRET": "t", "PIN": "0000",
        "TAGS": ["a", "b"], "EXTRA": {"n": 1}, "NOTE": "n", "LIMIT": -4,
    }  # fmt: skip
    # Booleans may also come as text.
    assert parse_form(Kinds, {"ON": "true"})[0]["ON"] is True


def test_parse_errors_are_mapped_to_their_fields() -> None:
    values, errors = parse_form(
        Kinds,
        {"COUNT": "1.5", "RATIO": "", "MODE": "c", "COLOUR": "blue", "TAGS": '["a", 2]', "EXTRA": "{n: 1}", "NAME": "ok"},
    )
    assert set(errors) == {"COUNT", "RATIO", "MODE", "COLOUR", "TAGS", "EXTRA"}
    assert errors["COUNT"] == "Not a whole number: 1.5"
    assert errors["RATIO"] == "Enter a number"  # blank and not optional
    assert errors["MODE"] == "Input should be 'a' or 'b'"
    assert errors["COLOUR"] == "Input should be 'red' or 'green'"
    assert errors["TAGS"] == "[1]: Input should be a valid string"  # the item inside the field
    assert errors["EXTRA"].startswith("Not valid JSON (")
    assert all(value is None for value in values.values())  # nothing to store while errors remain


def test_constraint_validator_and_model_errors() -> None:
    class Checked(BaseModel):
        LOW: int = Field(default=1, ge=0)
        HIGH: int = Field(default=2, le=100)
        NAME: str = "n"

        @field_validator("NAME")
        @classmethod
        def no_spaces(cls, value: str) -> str:
            if " " in value:
                raise ValueError("no spaces, please")
            return value

        @model_validator(mode="after")
        def ordered(self) -> Checked:
            if self.LOW > self.HIGH:
                raise ValueError("LOW must not exceed HIGH")
            return self

    assert parse_form(Checked, {"LOW": "-1", "HIGH": "101", "NAME": "a b"})[1] == {
        "LOW": "Input should be greater than or equal to 0",
        "HIGH": "Input should be less than or equal to 100",
        "NAME": "no spaces, please",
    }
    assert parse_form(Checked, {"LOW": "50", "HIGH": "10"})[1] == {FORM_ERROR: "LOW must not exceed HIGH"}


def test_only_the_set_fields_are_stored() -> None:
    fields = valve_fields(Kinds, {"COUNT": 5, "NAME": "x"})
    raw = {f.name: f.raw if f.is_set else None for f in fields}  # the form as opened: nothing changed
    raw["COUNT"] = None  # reset to default
    raw["ON"] = False  # set, even though it equals the default
    values, errors = parse_form(Kinds, raw, fields=fields)
    assert errors == {}
    assert {k: v for k, v in values.items() if v is not None} == {"NAME": "x", "ON": False}
    assert set(values) == set(Kinds.model_fields)  # every field: None for the unset ones
    assert validate_for_storage(Kinds, values, label="valves") == {"NAME": "x", "ON": False}


def test_secret_str_is_stored_as_its_text() -> None:
    assert validate_for_storage(Kinds, {"TOKEN_SECRET": "hunter2"}, label="valves") == {"TOKEN_SECRET": "hunter2"}


def test_secret_fields_and_the_type_names_the_cli_shows() -> None:
    fields = by_name(valve_fields(Kinds, {"COUNT": 4}))
    assert {name for name, f in fields.items() if f.secret} == {"API_KEY", "VAULT", "TOKEN_SECRET", "PIN"}
    count = fields["COUNT"]
    assert (count.type_name, count.default, count.value, count.is_set, count.description) == ("int", 3, 4, True, "")
    assert (fields["MODE"].type_name, fields["TAGS"].type_name) == ("Literal['a', 'b']", "list[str]")
    assert fields["TOKEN_SECRET"].default == ""  # a SecretStr default as its text, JSON-ready


def test_a_default_factory_that_needs_the_data_has_no_default() -> None:
    class Late(BaseModel):
        A: int = 1
        B: int = Field(default_factory=lambda data: data["A"] + 1)

    b = by_name(valve_fields(Late, {}))["B"]
    assert (b.default, b.value, b.is_set, b.required) == (None, None, False, False)


def test_the_sample_pipe_has_every_kind() -> None:
    pipe = runpy.run_path(str(PIPE_FILE))["Pipe"]
    kinds = {f.name: f.kind for f in valve_fields(pipe.Valves, {})}
    assert set(kinds.values()) == {"text", "int", "float", "bool", "select", "secret", "json"}
    assert {f.name: f.kind for f in valve_fields(pipe.UserValves, {})} == {"SIGNATURE": "text", "VERBOSE": "bool"}


async def test_set_valves_with_the_parsed_form_stores_exactly_the_set_fields(library: FunctionLibrary) -> None:
    await library.add(PIPE_FILE.read_text(), function_id="vf")
    await library.set_valves("vf", {"PREFIX": "> ", "SEED": 3})
    fields = (await read_function_valves(library, "vf")).fields  # read in the pipe host
    raw = {f.name: f.raw if f.is_set else None for f in fields}
    raw["SEED"] = ""  # cleared: an optional field left blank is unset
    raw["MAX_TOKENS"] = "99"
    values, errors = await check_form(library, "vf", raw)  # checked there too
    assert errors == {}
    stored = await library.set_valves("vf", values, merge=False)
    assert stored == {"PREFIX": "> ", "MAX_TOKENS": 99}
    assert (await library.get("vf")).valves == {"PREFIX": "> ", "MAX_TOKENS": 99}


async def test_read_function_valves_for_admin_and_user_valves(library: FunctionLibrary) -> None:
    await library.add(PIPE_FILE.read_text(), function_id="vf")
    await library.set_valves("vf", {"MAX_TOKENS": 64})
    user = await library.store.users.local()
    await library.set_valves("vf", {"VERBOSE": True}, user_id=user["id"])
    admin = await read_function_valves(library, "vf")
    assert (admin.function.id, admin.model_name, admin.stored) == ("vf", "Valves", {"MAX_TOKENS": 64})
    assert [f.name for f in admin.fields if f.is_set] == ["MAX_TOKENS"]
    mine = await read_function_valves(library, "vf", user_id=user["id"])
    assert (mine.model_name, mine.stored) == ("UserValves", {"VERBOSE": True})
    assert {f.name: f.value for f in mine.fields} == {"SIGNATURE": "", "VERBOSE": True}
    assert (await check_form(library, "vf", {"VERBOSE": "yes"}, user_id=user["id"])) == ({"SIGNATURE": None, "VERBOSE": True}, {})


def test_a_field_travels_as_json_unchanged() -> None:
    """The pipe host sends the fields as JSON (`to_json`); the app reads them back as they were."""
    for valve in valve_fields(Kinds, {"COUNT": 7, "STYLE": "old"}):
        data = json.loads(json.dumps(valve.to_json()))
        assert ValveField.from_json(data) == valve, valve.name
        assert data["secret"] == valve.secret
