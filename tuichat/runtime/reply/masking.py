"""A password typed into an `__event_call__` input is the pipe's alone.

The pipe gets the real answer; everything tuichat keeps or shows of the call (the trace step,
the activity, the stored events, the exports, `tuichat run`'s lines and `--jsonl`) gets
`MASKED` instead: that an answer was given, never what it was or how long. A default the
pipe put in the question's `value` is a secret too. A cancel (`False`) or an error dict says
nothing secret, so it stays as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tuichat.runtime.reply.event_call_request import read_event_call

MASKED: Final = {"masked": True}
MASK_TEXT: Final = "••••••••"  # how a masked answer reads; the same length whatever was typed


def asks_for_password(event: Any) -> bool:
    request = read_event_call(event)
    return request is not None and request.password


def is_masked(reply: Any) -> bool:
    return reply == MASKED


def masked_answer(event: Any, reply: Any) -> Any:
    """What to keep of `reply` to `event`: MASKED for a password's answer, else `reply`."""
    if isinstance(reply, str) and asks_for_password(event):
        return dict(MASKED)
    return reply


def masked_question(event: Any) -> Any:
    """`event` with a password input's prefilled `value` masked (wherever the input sits)."""
    if not asks_for_password(event) or not isinstance(event, Mapping):
        return event
    data = event.get("data")
    if not isinstance(data, Mapping):
        return event
    masked = {**data, "value": MASK_TEXT} if data.get("value") else dict(data)
    nested = data.get("input")
    if isinstance(nested, Mapping) and nested.get("value"):
        masked["input"] = {**nested, "value": MASK_TEXT}
    return {**event, "data": masked}


def masked_call_record(record: Any) -> Any:
    """A stored `{"call": E, "reply": R}` with its secrets masked (rows kept before masking)."""
    if not isinstance(record, Mapping) or "call" not in record:
        return record
    event = record.get("call")
    return {**record, "call": masked_question(event), "reply": masked_answer(event, record.get("reply"))}
