"""The reply a person sees, built from invocation steps (spec §7.4, §8, tests 41-73)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuichat.runtime.invocation.trace import CallStep, EventStep, RaisedStep, ResponseStep, SseStep, Step
from tuichat.runtime.reply.builder import ReplyBuilder, reply_from_steps
from tuichat.runtime.reply.model import ActivityEntry, Reply, Update
from tuichat.runtime.reply.reasoning import ReasoningSplitter

MODEL = "p"


def _dumps(obj: Any) -> str:
    # Compact, raw UTF-8: what Open WebUI's default orjson encoder writes.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _chunk_line(delta: dict[str, Any], finish_reason: str | None, at: float = 0.0) -> SseStep:
    """Open WebUI's chunk template as one SSE line (spec §7.1)."""
    choice = {"index": 0, "logprobs": None, "finish_reason": finish_reason, "delta": delta}
    body = {
        "id": f"{MODEL}-<uuid>",
        "created": 0,
        "model": MODEL,
        "choices": [choice],
        "object": "chat.completion.chunk",
    }
    return SseStep(f"data: {_dumps(body)}\n\n", at=at)


def chunk(content: str, at: float = 0.0) -> SseStep:
    """The content chunk for a yielded string."""
    return _chunk_line({"content": content}, None, at)


def stop() -> SseStep:
    return _chunk_line({}, "stop")


DONE = SseStep("data: [DONE]")


def line(obj: Any, at: float = 0.0) -> SseStep:
    """A yielded dict, passed through as one `data:` line."""
    return SseStep(f"data: {_dumps(obj)}\n\n", at=at)


def completion(content: str | None) -> ResponseStep:
    choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": "stop"}
    if content is not None:
        choice["message"] = {"role": "assistant", "content": content}
    return ResponseStep(
        {
            "id": f"{MODEL}-<uuid>",
            "created": 0,
            "model": MODEL,
            "choices": [choice],
            "object": "chat.completion",
        }
    )


def event(kind: str, data: Any, at: float = 0.0) -> EventStep:
    return EventStep({"type": kind, "data": data}, at=at)


def streamed(*texts: str) -> list[Step]:
    return [*(chunk(text) for text in texts), stop(), DONE]


# -- streaming output -----------------------------------------------------------------


def test_41_mixed_generator_items_show_only_delta_content() -> None:
    reply = reply_from_steps(
        [
            chunk("a"),
            stop(),  # from the yielded "" mid-stream
            SseStep('data: {"x": 1}\n\n'),
            SseStep('data: {"choices":[{"delta":{"content":"D"}}]}\n\n'),
            chunk("bytes"),
            SseStep("data: [DONE]\n\n"),
            stop(),
            DONE,
        ]
    )
    assert reply.content == "aDbytes"
    assert reply.reasoning == ""
    assert reply.error is None
    assert reply.finish_reason == "stop"
    assert reply.status == "done"
    assert reply.activity == []


def test_46_returned_dict_with_message_is_an_empty_reply() -> None:
    reply = reply_from_steps([SseStep('data: {"choices":[{"message":{"content":"dict!"}}]}\n\n')])
    assert reply.content == ""
    assert reply.status == "done"


def test_47_yielded_model_shows_its_delta() -> None:
    reply = reply_from_steps([SseStep('data: {"choices":[{"delta":{"content":"bm"}}]}\n\n'), stop(), DONE])
    assert reply.content == "bm"


def test_49_raw_lines_and_trailing_newline_are_stripped() -> None:
    reply = reply_from_steps(
        [
            SseStep('data: {"choices":[{"delta":{"content":"A"}}]}\n\n\n', is_bytes=False),
            chunk("\n"),
            SseStep("data: hello\n\n"),
            stop(),
            stop(),
            DONE,
        ]
    )
    assert reply.content == "A"


def test_50_think_tags_become_reasoning() -> None:
    reply = reply_from_steps(streamed("<think>plan</think>Answer"))
    assert (reply.content, reply.reasoning) == ("Answer", "plan")


def test_50_think_tags_split_across_chunks() -> None:
    reply = reply_from_steps(streamed("<thi", "nk>plan</th", "ink>Answer"))
    assert (reply.content, reply.reasoning) == ("Answer", "plan")


def test_51_reasoning_content_then_text() -> None:
    reply = reply_from_steps(
        [line({"choices": [{"delta": {"reasoning_content": "r1"}}]}), chunk("final"), stop(), DONE]
    )
    assert (reply.content, reply.reasoning) == ("final", "r1")


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning", "thinking"])
def test_every_reasoning_delta_key_is_read(key: str) -> None:
    reply = reply_from_steps([line({"choices": [{"delta": {key: "why"}}]})])
    assert reply.reasoning == "why"


def test_reasoning_blocks_are_separated_by_a_blank_line() -> None:
    reply = reply_from_steps(
        [
            line({"choices": [{"delta": {"reasoning_content": "first"}}]}),
            chunk("A"),
            chunk("<thinking>\n second \n</thinking>B"),
            line({"choices": [{"delta": {"reasoning": "third"}}]}),
            line({"choices": [{"delta": {"reasoning": " part"}}]}),
        ]
    )
    assert reply.content == "AB"
    assert reply.reasoning == "first\n\nsecond\n\nthird part"


def test_52_event_line_is_dispatched_like_an_emitted_event() -> None:
    status = {"type": "status", "data": {"description": "Working", "done": False}}
    builder = ReplyBuilder()
    update = builder.feed(line({"event": status}, at=1.5))
    reply = builder.finish().reply
    assert reply.statuses == [{"description": "Working", "done": False}]
    assert reply.activity == [ActivityEntry(1.5, "event", status)]
    assert update.event is reply.activity[0]
    assert reply.content == ""


def test_53_usage_chunk() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    reply = reply_from_steps([line({"choices": [], "usage": usage}), stop(), DONE])
    assert reply.usage == usage


def test_usage_is_merged_with_llama_cpp_timings() -> None:
    reply = reply_from_steps(
        [
            line({"choices": [], "usage": {"prompt_tokens": 3}}),
            line({"choices": [], "usage": {"completion_tokens": 5}, "timings": {"predicted_ms": 9}}),
        ]
    )
    assert reply.usage == {"prompt_tokens": 3, "completion_tokens": 5, "predicted_ms": 9}


def test_non_string_delta_content_is_formatted() -> None:
    reply = reply_from_steps(
        [line({"choices": [{"delta": {"content": 5}}]}), line({"choices": [{"delta": {"content": 0}}]})]
    )
    assert reply.content == "5"  # 0 is falsy, so Open WebUI skips it


# -- errors ---------------------------------------------------------------------------


def test_54_pipe_raised_on_call_streaming() -> None:
    builder = ReplyBuilder()
    update = builder.feed(
        SseStep('data: {"error":{"detail":"bad key"}}\n\n', at=0.2, traceback="Traceback: bad key")
    )
    reply = builder.finish().reply
    assert update.parts is not None and update.parts.error == "bad key"
    assert reply.error == "bad key"
    assert reply.error_detail == {"detail": "bad key"}
    assert reply.traceback == "Traceback: bad key"
    assert reply.content == ""
    assert reply.status == "error"
    assert reply.activity == [
        ActivityEntry(0.2, "error", {"message": "bad key", "traceback": "Traceback: bad key"})
    ]


def test_54_pipe_raised_on_call_non_stream() -> None:
    reply = reply_from_steps([ResponseStep({"error": {"detail": "bad key"}}, traceback="tb")])
    assert (reply.error, reply.error_detail, reply.traceback, reply.status) == (
        "bad key",
        {"detail": "bad key"},
        "tb",
        "error",
    )


def test_55_error_mid_stream_keeps_partial_text() -> None:
    steps: list[Step] = [
        chunk("partial"),
        RaisedStep("ValueError", "boom", "Traceback (most recent call last): ...", at=0.3),
    ]
    reply = reply_from_steps(steps)
    assert reply.content == "partial"
    assert reply.error == "boom"  # exactly str(e): no "Error:" prefix
    assert reply.error_detail == {"type": "ValueError", "message": "boom"}
    assert reply.traceback == "Traceback (most recent call last): ..."
    assert reply.status == "error"
    assert [entry.kind for entry in reply.activity] == ["error"]


def test_57_non_string_item_breaks_the_stream() -> None:
    message = "'int' object has no attribute 'startswith'"
    reply = reply_from_steps([chunk("ok"), RaisedStep("AttributeError", message)])
    assert (reply.content, reply.error, reply.traceback) == ("ok", message, None)


def test_57_same_generator_non_stream() -> None:
    reply = reply_from_steps([completion("ok5")])
    assert (reply.content, reply.error, reply.status) == ("ok5", None, "done")


@pytest.mark.parametrize(
    ("error", "shown"),
    [({"detail": "d"}, "d"), ({"message": "m", "type": "x"}, "m"), ("plain", "plain"), (["a"], "['a']")],
)
def test_error_line_text(error: Any, shown: str) -> None:
    assert reply_from_steps([line({"error": error})]).error == shown


def test_plain_json_line_with_error() -> None:
    reply = reply_from_steps(
        [SseStep('{"error": {"message": "upstream down"}}'), SseStep('{"other": 1}'), SseStep("not json")]
    )
    assert reply.error == "upstream down"
    assert reply.error_detail == {"message": "upstream down"}


def test_error_event_and_completion_error() -> None:
    builder = ReplyBuilder()
    update = builder.feed(event("chat:message:error", {"error": {"content": "from event"}, "done": True}))
    assert update.parts is not None and update.parts.error == "from event" and update.event is not None and update.event.kind == "event"
    assert builder.snapshot().error == "from event"
    builder.feed(
        event("chat:completion", {"error": {"detail": "from completion"}, "usage": {"total_tokens": 2}})
    )
    reply = builder.finish().reply
    assert (reply.error, reply.error_detail, reply.usage) == (
        "from completion",
        {"detail": "from completion"},
        {"total_tokens": 2},
    )
    assert reply.status == "error"


# -- non-stream output ----------------------------------------------------------------


def test_63_non_stream_text_is_not_stripped() -> None:
    assert reply_from_steps([completion("  hi  ")]).content == "  hi  "
    assert reply_from_steps(streamed("  hi  ")).content == "hi"


def test_non_stream_completion_replaces_event_text() -> None:
    steps: list[Step] = [event("message", {"content": "[msg-event]"}), completion("First second third")]
    assert reply_from_steps(steps).content == "First second third"


@pytest.mark.parametrize(
    "response", [completion(None), completion(""), ResponseStep({"no": "choices"}), ResponseStep("text")]
)
def test_non_stream_without_content_keeps_event_text(response: ResponseStep) -> None:
    steps: list[Step] = [event("message", {"content": "A"}), event("message", {"content": "B"}), response]
    reply = reply_from_steps(steps)
    assert (reply.content, reply.status) == ("AB", "done")


def test_non_stream_empty_completion_still_records_finish_reason() -> None:
    assert reply_from_steps([completion(None)]).finish_reason == "stop"


def test_non_stream_reasoning() -> None:
    message = {"role": "assistant", "content": "<think>tagged</think>Answer", "reasoning_content": "field"}
    reply = reply_from_steps(
        [ResponseStep({"choices": [{"message": message}], "usage": {"total_tokens": 4}})]
    )
    assert (reply.content, reply.reasoning, reply.usage) == ("Answer", "field\n\ntagged", {"total_tokens": 4})


# -- events ---------------------------------------------------------------------------


def test_64_status_history_and_hidden() -> None:
    builder = ReplyBuilder()
    builder.feed(event("status", {"description": "Searching", "done": False}))
    assert builder.snapshot().shown_status == {"description": "Searching", "done": False}
    builder.feed(event("status", {"description": "Searching", "done": True}))
    reply = builder.snapshot()
    assert reply.statuses == [
        {"description": "Searching", "done": False},
        {"description": "Searching", "done": True},
    ]
    assert reply.shown_status == {"description": "Searching", "done": True}
    builder.feed(event("status", {"description": "x", "done": True, "hidden": True}))
    assert len(builder.snapshot().statuses) == 3
    assert builder.snapshot().shown_status is None


def test_65_citation_and_code_execution() -> None:
    citation = {
        "document": ["body text"],
        "metadata": [{"source": "https://ex.com/a"}],
        "source": {"name": "Ex"},
    }
    reply = reply_from_steps(
        [
            event("citation", citation),
            event("source", {"type": "code_execution", "id": "c1", "code": "1", "result": None}),
            event("source", {"type": "code_execution", "id": "c2", "code": "2"}),
            event("citation", {"type": "code_execution", "id": "c1", "code": "1", "result": {"output": "1"}}),
        ]
    )
    assert reply.sources == [citation]
    assert reply.code_executions == [
        {"type": "code_execution", "id": "c1", "code": "1", "result": {"output": "1"}},
        {"type": "code_execution", "id": "c2", "code": "2"},
    ]


def test_66_notification() -> None:
    reply = reply_from_steps([event("notification", {"type": "warning", "content": "Careful"})])
    assert reply.notifications == [{"type": "warning", "content": "Careful"}]
    assert reply.content == ""


def test_67_message_event_then_streamed_text_appends_in_order() -> None:
    # The README's choice (Open WebUI up to 0.6): message events are part of the visible text.
    reply = reply_from_steps([event("message", {"content": "X"}), *streamed("Y")])
    assert reply.content == "XY"


def test_68_message_events_then_none() -> None:
    reply = reply_from_steps(
        [event("message", {"content": "A"}), event("chat:message:delta", {"content": "B"}), stop(), DONE]
    )
    assert reply.content == "AB"


def test_message_and_replace_events_in_order_with_streamed_text() -> None:
    # The `events` conformance case, streaming.
    builder = ReplyBuilder()
    steps: list[Step] = [
        event("status", {"description": "Thinking...", "done": False}),
        chunk("First "),
        event("message", {"content": "[msg-event]"}),
        chunk("second "),
        event("replace", {"content": "REPLACED"}),
        chunk("third"),
        event("status", {"description": "Done", "done": True, "hidden": False}),
        stop(),
        DONE,
    ]
    updates = [builder.feed(step) for step in steps]
    reply = builder.finish().reply
    assert reply.content == "REPLACEDthird"
    # Trailing whitespace is held back until text follows it (the end of a stream strips it).
    assert [u.text for u in updates] == ["", "First", " [msg-event]", "second", "", "third", "", "", ""]
    assert [u.replaced for u in updates] == [None, None, None, None, "REPLACED", None, None, None, None]
    assert [entry.data["type"] for entry in reply.activity] == ["status", "message", "replace", "status"]
    assert reply.shown_status == {"description": "Done", "done": True, "hidden": False}


def test_chat_message_event_replaces_and_resets_a_half_seen_tag() -> None:
    reply = reply_from_steps(
        [chunk("old <thi"), event("chat:message", {"content": "new "}), chunk("nk> text")]
    )
    assert (reply.content, reply.reasoning) == ("new nk> text", "")


def test_73_chat_title() -> None:
    assert reply_from_steps([event("chat:title", "New name")]).title == "New name"


def test_files_embeds_and_follow_ups() -> None:
    reply = reply_from_steps(
        [
            event("files", {"files": [{"type": "image", "url": "a.png"}]}),
            event("chat:message:files", {"files": [{"type": "file", "url": "b.txt"}]}),
            event("embeds", {"embeds": ["<p>1</p>"]}),
            event("chat:message:embeds", {"embeds": ["<p>2</p>"]}),
            event("chat:message:follow_ups", {"follow_ups": ["A?", "B?"]}),
        ]
    )
    assert reply.files == [{"type": "image", "url": "a.png"}, {"type": "file", "url": "b.txt"}]
    assert reply.embeds == ["<p>1</p>", "<p>2</p>"]
    assert reply.follow_ups == ["A?", "B?"]
    replaced = reply_from_steps(
        [event("embeds", {"embeds": ["1"]}), event("embeds", {"embeds": ["2"], "replace": True})]
    )
    assert replaced.embeds == ["2"]


def test_event_call_goes_to_activity_only() -> None:
    call = {"type": "input", "data": {"title": "T", "message": "M"}}
    builder = ReplyBuilder()
    update = builder.feed(CallStep(call, "Bob", at=0.7))
    reply = builder.finish().reply
    assert update == Update(event=ActivityEntry(0.7, "call", {"call": call, "reply": "Bob"}))
    assert reply.activity == [ActivityEntry(0.7, "call", {"call": call, "reply": "Bob"})]
    assert reply.content == ""


@pytest.mark.parametrize(
    "bad",
    [
        "oops",
        None,
        5,
        [1, 2],
        {},
        {"type": ["status"]},
        {"type": "status"},
        {"type": "status", "data": "Working"},
        {"type": "message"},
        {"type": "message", "data": {"content": 5}},
        {"type": "replace", "data": ["x"]},
        {"type": "source", "data": None},
        {"type": "notification", "data": "hi"},
        {"type": "files", "data": {"files": "a.png"}},
        {"type": "embeds", "data": {"embeds": None}},
        {"type": "chat:title", "data": {"title": "T"}},
        {"type": "chat:message:follow_ups", "data": ["A?"]},
        {"type": "chat:message:error", "data": "x"},
        {"type": "chat:completion", "data": 3},
        {"type": "unknown:thing", "data": {"a": 1}},
    ],
)
def test_malformed_events_are_only_listed(bad: Any) -> None:
    for step in (EventStep(bad, at=0.1), line({"event": bad}, at=0.1)):
        builder = ReplyBuilder()
        update = builder.feed(step)
        reply = builder.finish().reply
        assert update == Update(event=ActivityEntry(0.1, "event", bad))
        assert reply == Reply(status="done", activity=[ActivityEntry(0.1, "event", bad)])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "data: [DONE]",
        "data: hello",
        "data: 5",
        'data: {"a":1}\n\ndata: {"b":2}\n\n',
        'data: {"choices": "x"}',
        'data: {"choices": [5]}',
        'data: {"choices": [{"delta": "x"}]}',
    ],
)
def test_malformed_lines_are_skipped(text: str) -> None:
    builder = ReplyBuilder()
    assert builder.feed(SseStep(text)) is not None
    assert builder.finish().reply == Reply(status="done")


# -- reasoning tags -------------------------------------------------------------------

TAGGED = (
    "Intro <think>\nplan A\n</think>\n\nmiddle <thinking>deep</thinking> "
    "<|begin_of_thought|>bt<|end_of_thought|>◁think▷kimi◁/think▷"
    "<|begin_of_solution|>solved<|end_of_solution|> <Thought>T</Thought><reason>r</reason>"
    "<reasoning>R</reasoning><thought>t</thought>end < not a tag <thin"
)


def test_tags_fed_one_character_at_a_time_match_one_piece() -> None:
    whole = reply_from_steps(streamed(TAGGED))
    by_char = reply_from_steps(streamed(*TAGGED))
    assert whole.content == "Intro \n\nmiddle  solved end < not a tag <thin"
    assert whole.reasoning == "plan A\n\ndeep\n\nbt\n\nkimi\n\nT\n\nr\n\nR\n\nt"
    assert (by_char.content, by_char.reasoning) == (whole.content, whole.reasoning)


def test_updates_stream_the_same_text_as_the_final_reply() -> None:
    builder = ReplyBuilder()
    updates = [builder.feed(step) for step in [chunk(c) for c in TAGGED]]
    finished = builder.finish()
    reply = finished.reply
    assert "".join(u.reasoning for u in updates) == reply.reasoning
    assert finished.update.text == " <thin"  # the held tail (and the space before it) released by finish
    assert "".join(u.text for u in [*updates, finished.update]) == reply.content


def test_held_tail_is_not_shown_until_resolved() -> None:
    builder = ReplyBuilder()
    # The space is held back too: it might be trailing whitespace, which the end strips.
    assert builder.feed(chunk("Hello <th")).text == "Hello"
    assert (builder.snapshot().content, builder.snapshot().status) == ("Hello ", "streaming")
    assert builder.feed(chunk("ere")).text == " <there"
    assert builder.snapshot().content == "Hello <there"


def test_solution_tags_are_removed_and_their_text_kept() -> None:
    reply = reply_from_steps(streamed("<|begin_of_solution|>The answer<|end_of_solution|>"))
    assert (reply.content, reply.reasoning) == ("The answer", "")


def test_unclosed_think_stays_reasoning() -> None:
    reply = reply_from_steps(streamed("Before <think>still thinking </thi"))
    assert (reply.content, reply.reasoning) == ("Before", "still thinking </thi")


def test_stopped_reply_keeps_partial_content() -> None:
    builder = ReplyBuilder()
    builder.feed(chunk("partial answer <"))
    reply = builder.finish("stopped").reply
    assert (reply.content, reply.status, reply.error) == ("partial answer <", "stopped", None)


def test_reasoning_tags_false_disables_detection() -> None:
    reply = reply_from_steps(
        streamed("<think>plan</think>Answer<|begin_of_solution|>s<|end_of_solution|>"), reasoning_tags=False
    )
    assert reply.content == "<think>plan</think>Answer<|begin_of_solution|>s<|end_of_solution|>"
    assert reply.reasoning == ""


def test_reasoning_tags_pair_overrides_the_defaults() -> None:
    reply = reply_from_steps(streamed("<think>x</think>[[why]]Answer"), reasoning_tags=["[[", "]]"])
    assert (reply.content, reply.reasoning) == ("<think>x</think>Answer", "why")


def test_splitter_directly() -> None:
    splitter = ReasoningSplitter()
    assert splitter.feed("a<thi") == ("a", "")
    assert splitter.feed("nk> b ") == ("", "b")
    assert splitter.feed(" c</think>d") == ("d", "  c")
    assert splitter.feed("<think>e</thi") == ("", "\n\ne")
    assert splitter.flush() == ("", "</thi")


# -- storage and speed ----------------------------------------------------------------


def test_reply_json_round_trip_is_json_safe() -> None:
    builder = ReplyBuilder()
    for step in [
        event("status", {"description": "S", "done": True, "when": b"raw", "n": float("nan")}),
        CallStep({"type": "confirmation", "data": {}}, True, at=0.5),
        *streamed("<think>r</think>text"),
        line({"choices": [], "usage": {"total_tokens": 1}}),
        RaisedStep("KeyError", "'x'", "tb"),
    ]:
        builder.feed(step)
    reply = builder.finish().reply
    stored = json.loads(json.dumps(reply.to_json(), allow_nan=False))
    assert stored["statuses"] == [{"description": "S", "done": True, "when": "b'raw'", "n": "nan"}]
    assert stored["activity"][1] == {
        "at": 0.5,
        "kind": "call",
        "data": {"call": {"type": "confirmation", "data": {}}, "reply": True},
    }
    loaded = Reply.from_json(stored)
    assert loaded.to_json() == stored
    assert (loaded.content, loaded.reasoning, loaded.error, loaded.status) == ("text", "r", "'x'", "error")
    assert Reply.from_json({}) == Reply(status="done")


def test_many_small_chunks() -> None:
    count = 100_000
    builder = ReplyBuilder()
    step = chunk("xy<")  # "<" makes every chunk go through the held-tail path
    for _ in range(count):
        builder.feed(step)
    reply = builder.finish().reply
    assert len(reply.content) == 3 * count


# -- what front ends are shown --------------------------------------------------------

def shown_text(updates: list[Update]) -> str:
    """What a front end shows after these updates: appends, each replace starting over."""
    text = ""
    for update in updates:
        text = update.replaced if update.replaced is not None else text + update.text
    return text


# (steps, whether the finish must replace the text shown)
SHOWN_CASES: list[tuple[list[Step], bool]] = [
    (streamed("  \n Hello", " world", "  \n\n", "## Next\n", "  "), False),
    (streamed("   ", "\n", " x "), False),
    (streamed("   ", "\n"), False),
    ([chunk("<think>plan</think>\n\n"), chunk("  Answer  "), stop(), DONE], False),
    # Leading whitespace shown before the reply streamed: the strip at the end removes it.
    ([event("message", {"content": "  lead "}), chunk(" streamed "), stop(), DONE], True),
    ([event("message", {"content": "A "}), event("replace", {"content": "  B  "}), chunk("C  "), stop(), DONE], True),
    ([event("message", {"content": "A "}), event("replace", {"content": "B  "}), chunk("C  "), stop(), DONE], False),
    ([event("message", {"content": "  kept as is  "}), completion(None)], False),
    ([completion("  not stripped  ")], False),
    ([chunk("Hello <th")], False),
    ([chunk("x"), RaisedStep("ValueError", "boom")], False),
]


@pytest.mark.parametrize(("steps", "replaces"), SHOWN_CASES)
def test_what_front_ends_show_ends_as_the_reply_content(steps: list[Step], replaces: bool) -> None:
    """The updates, then the finishing one, show exactly the finished reply's text; and the
    finish needs to replace the text only when whitespace the strip removes had been shown."""
    builder = ReplyBuilder()
    updates = [builder.feed(step) for step in steps]
    finished = builder.finish()
    assert shown_text([*updates, finished.update]) == finished.reply.content
    assert (finished.update.replaced is not None) == replaces


def test_parts_come_with_the_step_that_changed_them() -> None:
    builder = ReplyBuilder()
    status = builder.feed(event("status", {"description": "Searching", "done": False}))
    assert status.parts is not None and status.parts.shown_status == {"description": "Searching", "done": False}
    assert status.parts.busy
    assert builder.feed(chunk("text")).parts is None  # text alone changes no part
    usage = builder.feed(line({"choices": [], "usage": {"total_tokens": 3}}))
    assert usage.parts is not None and usage.parts.usage == {"total_tokens": 3}
    finished = builder.finish()
    assert finished.update.parts == finished.reply.parts
    assert finished.reply.parts.status == "done" and not finished.reply.parts.busy


def test_a_flood_of_events_is_capped_and_says_so() -> None:
    from tuichat.runtime.reply.capped import MAX_ACTIVITY

    builder = ReplyBuilder()
    shown = [builder.feed(EventStep({"type": "status", "data": {"description": f"step {i}"}}, 0.0)).event for i in range(MAX_ACTIVITY + 500)]
    builder.feed(RaisedStep("ValueError", "late failure", "", 1.0))
    reply = builder.finish().reply
    texts = [entry.data.get("text") for entry in reply.activity if entry.kind == "log"]
    assert len(reply.activity) == MAX_ACTIVITY + 3  # the first note, the error past the cap, the last note
    assert texts == [
        "this reply has 10,000 activity entries: later ones are counted, not kept",
        "500 more activity entries were not kept (a reply keeps 10,000)",
    ]
    assert shown[MAX_ACTIVITY] is not None and shown[MAX_ACTIVITY + 1] is None  # the note is shown, then nothing
    assert reply.activity[-2].kind == "error" and reply.error == "late failure"
    # Statuses: the first ones and the latest, which is the one shown.
    assert len(reply.statuses) == MAX_ACTIVITY and reply.shown_status == {"description": f"step {MAX_ACTIVITY + 499}"}
