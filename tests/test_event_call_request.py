"""`tuichat.runtime.reply.event_call_request`: what an `__event_call__` asks (the TUI's dialogs
and `tuichat run` read it)."""

from __future__ import annotations

from typing import Any

import pytest

from tuichat.runtime.reply.event_call_request import EventCallRequest, read_event_call


def call(kind: str = "input", **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": data}


class TestReadEventCall:
    def test_a_confirmation(self) -> None:
        request = read_event_call(call("confirmation", title="Delete?", message="**3** files"))
        assert request == EventCallRequest("confirmation", title="Delete?", message="**3** files")
        assert not request.password and request.options == []

    def test_a_flat_input(self) -> None:
        request = read_event_call(call(title="Name", message="Who?", placeholder="your name", value="Ada", type="text"))
        assert request == EventCallRequest("input", "Name", "Who?", "your name", "Ada", "text")

    def test_nested_input_fields_win_and_the_flat_ones_fill_the_gaps(self) -> None:
        event = call(
            title="Pick", placeholder="flat", value="flat", type="text", options=["flat"],
            input={"type": "select", "options": ["a", "b"], "placeholder": None},
        )  # fmt: skip
        request = read_event_call(event)
        assert request is not None
        assert (request.input_type, request.options) == ("select", [("a", "a"), ("b", "b")])
        assert (request.placeholder, request.value) == ("flat", "flat")  # None in `input` is no value
        assert request.title == "Pick"  # title and message are only ever flat

    def test_flat_options_when_the_nested_input_has_none(self) -> None:
        request = read_event_call(call(options=["x"], input={"type": "select"}))
        assert request is not None and request.options == [("x", "x")]

    def test_options_as_strings_and_dicts_with_a_missing_label_or_value(self) -> None:
        options = ["red", {"label": "Green", "value": "g"}, {"value": "b"}, {"label": "Only a label"}, {}, 7]
        request = read_event_call(call(options=options))
        assert request is not None
        assert request.options == [
            ("red", "red"),
            ("Green", "g"),
            ("b", "b"),  # no label: the value is shown
            ("Only a label", "Only a label"),  # no value: the label is returned
            ("", ""),
            ("7", 7),  # a value keeps its type: the pipe gets what it offered
        ]

    def test_options_that_are_no_list_are_none(self) -> None:
        for options in ("a,b", {"a": 1}, 3, None):
            request = read_event_call(call(options=options))
            assert request is not None and request.options == [], options

    @pytest.mark.parametrize(
        ("data", "input_type", "password"),
        [
            ({"type": "password"}, "password", True),
            ({"type": " Password "}, "password", True),
            ({"input": {"type": "password"}}, "password", True),
            ({"type": "textarea"}, "textarea", False),
            ({"input": {"type": "TEXTAREA"}}, "textarea", False),
            ({}, "", False),
        ],
    )
    def test_password_and_textarea(self, data: dict[str, Any], input_type: str, password: bool) -> None:
        request = read_event_call(call(**data))
        assert request is not None and (request.input_type, request.password) == (input_type, password)

    def test_values_are_text_and_none_is_empty(self) -> None:
        request = read_event_call(call(title=None, message=42, value=5, placeholder=None))
        assert request is not None
        assert (request.title, request.message, request.value, request.placeholder) == ("", "42", "5", "")

    @pytest.mark.parametrize("event", [None, "input", ["input"], 3])
    def test_an_event_that_is_no_dict_is_no_request(self, event: Any) -> None:
        assert read_event_call(event) is None

    @pytest.mark.parametrize("data", [None, "text", ["a"]])
    def test_data_that_is_no_dict_reads_as_empty(self, data: Any) -> None:
        assert read_event_call({"type": "input", "data": data}) == EventCallRequest("input")

    def test_the_kind_of_other_calls_is_kept(self) -> None:
        assert read_event_call({"type": "execute", "data": {"code": "1"}}) == EventCallRequest("execute")
        assert read_event_call({"data": {}}) == EventCallRequest("")
