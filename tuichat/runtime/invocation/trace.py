"""The steps of one pipe invocation, in the order they happened.

Steps are plain slotted dataclasses (not frozen: a frozen one costs twice as much
to build, and one is built per chunk). Treat them as values.

An invocation is one ordered stream of these steps: the wire (SSE items or the
non-stream response) interleaved with the events the pipe emitted and the event
calls it made. The same stream feeds the CLI, the TUI and the conformance tests;
`to_json` gives the conformance trace form of a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class EventStep:
    """The pipe awaited `__event_emitter__(event)`."""

    event: Any
    at: float = 0.0  # seconds since the request started
    # On the chat path, the filter hook that emitted it: {"filter": ID, "hook": "inlet"}.
    source: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        if self.source is not None:
            return {"event": self.event, **self.source}
        return {"event": self.event}


@dataclass(slots=True)
class CallStep:
    """The pipe awaited `__event_call__(event)` and got `reply` back."""

    event: Any
    reply: Any
    at: float = 0.0
    source: dict[str, Any] | None = None  # as on `EventStep`

    def to_json(self) -> dict[str, Any]:
        if self.source is not None:
            return {"call": self.event, "reply": self.reply, **self.source}
        return {"call": self.event, "reply": self.reply}


@dataclass(slots=True)
class SseStep:
    """One item of the streaming response body, exactly as Open WebUI yields it."""

    text: str
    is_bytes: bool = False
    at: float = 0.0
    # Set on the `data: {"error":...}` line made from an exception raised by the
    # pipe call, so a front end can show where it came from. Not part of the wire.
    traceback: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.is_bytes:
            return {"sse": self.text, "bytes": True}
        return {"sse": self.text}


@dataclass(slots=True)
class ResponseStep:
    """The non-streaming result (a completion dict, an error dict, or the pipe's own dict)."""

    data: Any
    at: float = 0.0
    traceback: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"response": self.data}


@dataclass(slots=True)
class RaisedStep:
    """An exception escaped: the stream is cut here (or the non-stream call failed)."""

    type: str
    message: str
    traceback: str = ""
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"raised": {"type": self.type, "message": self.message}}


@dataclass(slots=True)
class LogStep:
    """What the pipe said on the side, or what the host process says about the call:
    `record` is `{"time", "stream", "text"}` plus `level` and `logger` for a log record
    (stream "log"), or `{"request": ...}`, the call record. Never part of the wire."""

    record: dict[str, Any]
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        if "request" in self.record:
            return {"request": self.record["request"]}
        return {"log": self.record}


Step = EventStep | CallStep | SseStep | ResponseStep | RaisedStep | LogStep

RECORD_TEXT_LIMIT = 4_000  # characters of one string a call record keeps


def shortened(value: Any, limit: int = RECORD_TEXT_LIMIT) -> Any:
    """`value` (JSON-like) with every string over `limit` characters cut, saying how much was
    left out. A call record copies the body, and the body carries the whole history: after a
    5 MB reply every later call in the chat recorded those 5 MB again, in memory and stored."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}… [{len(value) - limit:,} more characters not kept in the call record]"
    if isinstance(value, dict):
        return {key: shortened(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shortened(item, limit) for item in value]
    return value
