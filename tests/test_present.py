"""`tuichat.runtime.reply.present`: the words every front end shows for a reply and its events."""

from __future__ import annotations

from typing import Any

import pytest

from tuichat.runtime.reply.model import ActivityEntry
from tuichat.runtime.reply.present import (
    EventCallRequest,
    Notification,
    describe_entry,
    describe_event,
    first_line,
    follow_ups_text,
    notification_of,
    pipe_id_of,
    read_event_call,
    sub_id_of,
    title_of,
    usage_line,
)


# -- read_event_call: what an `__event_call__` asks (the TUI's dialogs and `tuichat run` read it) --
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


# -- the words every front end shows ------------------------------------------------------------
class TestDescribe:
    def test_an_event_call_and_its_answer(self) -> None:
        entry = ActivityEntry(0.5, "call", {"call": {"type": "input", "data": {"title": "Name?"}}, "reply": "Al"})
        assert str(describe_entry(entry)) == '[call:input] Name? → "Al"'

    def test_an_error_keeps_its_traceback_under_it(self) -> None:
        line = describe_entry(ActivityEntry(1.0, "error", {"message": "boom", "traceback": "Traceback...\n"}))
        assert (line.tag, line.text, line.detail, line.error) == ("error", "boom", "Traceback...", True)
        assert str(line) == "[error] boom\nTraceback..."

    def test_events_of_every_kind(self) -> None:
        assert str(describe_event({"type": "status", "data": {"description": "Found {{count}}", "count": 2}})) == (
            "[status] Found 2 (running)"
        )
        assert str(describe_event({"type": "notification", "data": {"type": "warning", "content": "Hm"}})) == (
            "[notification] warning: Hm"
        )
        assert str(describe_event({"type": "message", "data": {"content": "+x"}})) == '[message] "+x"'
        assert str(describe_event("odd")) == '[event] "odd"'
        assert str(describe_event({"type": "custom:thing", "data": {"a": 1}})) == '[custom:thing] {"a": 1}'

    def test_notifications_and_titles_for_the_front_ends(self) -> None:
        toast = ActivityEntry(0, "event", {"type": "notification", "data": {"type": "error", "content": "Bad"}})
        assert notification_of(toast) == Notification("error", "Bad")
        assert notification_of(ActivityEntry(0, "event", {"type": "status", "data": {}})) is None
        assert title_of(ActivityEntry(0, "event", {"type": "chat:title", "data": "  New name "})) == "New name"
        assert title_of(ActivityEntry(0, "event", {"type": "chat:title", "data": "   "})) is None
        assert title_of(ActivityEntry(0, "call", {"call": {"type": "chat:title"}})) is None


class TestSmallHelpers:
    def test_first_line(self) -> None:
        assert first_line("\n\n  first  \nsecond") == "first"
        assert first_line(None) == "" and first_line("   ") == ""
        assert first_line("x" * 80, 10) == "x" * 9 + "…"

    def test_model_ids(self) -> None:
        assert (pipe_id_of("manifold.gpt.4"), sub_id_of("manifold.gpt.4")) == ("manifold", "gpt.4")
        assert (pipe_id_of("echo"), sub_id_of("echo")) == ("echo", None)

    def test_usage_and_follow_ups(self) -> None:
        assert usage_line({"prompt_tokens": 3, "cost": 0.00123, "flag": True, "nested": {}}) == "prompt_tokens 3 · cost 0.00123"
        assert follow_ups_text(["  A   b ", "", "C?"]) == "Follow-ups:\n  › A b\n  › C?"
        assert follow_ups_text([]) == ""
