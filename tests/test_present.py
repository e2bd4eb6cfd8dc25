"""`tuichat.runtime.reply.present`: the words every front end shows for a reply and its events."""

from __future__ import annotations

from tuichat.runtime.reply.model import ActivityEntry
from tuichat.runtime.reply.present import (
    Notification,
    describe_entry,
    describe_event,
    first_line,
    follow_ups_text,
    notification_of,
    pipe_id_of,
    sub_id_of,
    title_of,
    usage_line,
)


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
