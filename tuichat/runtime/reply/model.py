"""A reply as a chat shows it: its text, reasoning, parts and activity, and what one step changed.

The runtime owns a reply. `ReplyBuilder` builds it from an invocation's steps and tells
front ends what each step changed (`Update`); `Reply.from_row` reads a stored one back.
Front ends render `Update`s as they come and the finished `Reply` at the end; they never
keep a second copy of its state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from tuichat.store import MessageRow

# "interrupted": tuichat ended before the reply did (a signal, a hang-up, kill -9, a crash).
ReplyStatus = Literal["streaming", "done", "stopped", "error", "interrupted"]
ActivityKind = Literal["event", "call", "error", "log", "request"]
# The request param `reasoning_tags`: None/True for Open WebUI's defaults, False for none,
# or a (start, end) pair.
ReasoningTagsParam = bool | Sequence[str] | None


@dataclass(slots=True)
class ActivityEntry:
    """One line of the activity pane: an event, an event call, or an error."""

    at: float  # seconds since the request started
    kind: ActivityKind
    # The event dict as emitted; {"call": E, "reply": R}; or {"message": M, "traceback": T}.
    data: Any
    # The chat-path filter hook that emitted an event or made a call: {"filter": ID, "hook": H}.
    source: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"at": self.at, "kind": self.kind, "data": json_safe(self.data)}
        if self.source is not None:
            data["source"] = json_safe(self.source)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActivityEntry:
        return cls(at=float(data.get("at", 0.0)), kind=data.get("kind", "event"), data=data.get("data"),
                   source=_source(data.get("source")))  # fmt: skip

    def to_record(self) -> dict[str, Any]:
        """The stored form: `{"event": E}`, `{"call": E, "reply": R}` or `{"error": {...}}`,
        with `"source": {"filter", "hook"}` for what a filter hook emitted or asked."""
        record = self._record()
        if self.source is not None and self.kind in ("event", "call"):
            record["source"] = json_safe(self.source)
        return record

    def _record(self) -> dict[str, Any]:
        if self.kind == "event":
            return {"event": json_safe(self.data)}
        if self.kind == "call":
            return json_safe(dict(self.data))  # type: ignore[no-any-return]
        if self.kind in ("log", "request"):
            return {self.kind: json_safe(self.data)}
        return {"error": json_safe(self.data)}

    @classmethod
    def from_record(cls, at: float, record: Any) -> ActivityEntry | None:
        """A stored record back as an entry; None for a record of no known kind."""
        if not isinstance(record, dict):
            return None
        if "call" in record:
            call = {key: value for key, value in record.items() if key != "source"}
            return cls(at, "call", call, _source(record.get("source")))
        if "error" in record:
            return cls(at, "error", record["error"])
        if "event" in record:
            return cls(at, "event", record["event"], _source(record.get("source")))
        if "log" in record:
            return cls(at, "log", record["log"])
        if "request" in record:
            return cls(at, "request", record["request"])
        return None


def _source(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class ReplyParts:
    """What shows around a reply's text: its state, status line, sources, usage, error and
    follow-ups. A value: the builder makes a new one whenever any of them changes."""

    status: ReplyStatus = "streaming"
    shown_status: dict[str, Any] | None = None  # the last status, unless it is hidden
    sources: tuple[dict[str, Any], ...] = ()
    usage: dict[str, Any] | None = None
    error: str | None = None
    follow_ups: tuple[str, ...] = ()

    @property
    def busy(self) -> bool:
        """A status says work is under way (`done: false`) while the reply streams."""
        status = self.shown_status
        return self.status == "streaming" and status is not None and status.get("done") is False


@dataclass(slots=True)
class Reply:
    """Everything Open WebUI would show for one assistant message."""

    content: str = ""  # visible text, reasoning removed
    reasoning: str = ""  # reasoning blocks, separated by a blank line
    usage: dict[str, Any] | None = None
    statuses: list[dict[str, Any]] = field(default_factory=list)  # status `data`, in order
    sources: list[dict[str, Any]] = field(default_factory=list)
    code_executions: list[dict[str, Any]] = field(default_factory=list)  # upserted by id
    notifications: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    embeds: list[Any] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    title: str | None = None
    error: str | None = None  # exactly the text Open WebUI shows
    error_detail: Any = None  # the raw error value it came from
    traceback: str | None = None
    finish_reason: str | None = None
    status: ReplyStatus = "streaming"
    activity: list[ActivityEntry] = field(default_factory=list)

    @property
    def shown_status(self) -> dict[str, Any] | None:
        """The status line above the reply: the last status, unless that one is hidden."""
        if not self.statuses or self.statuses[-1].get("hidden"):
            return None
        return self.statuses[-1]

    @property
    def parts(self) -> ReplyParts:
        return ReplyParts(
            self.status, self.shown_status, tuple(self.sources), dict(self.usage) if self.usage else None,
            self.error, tuple(self.follow_ups),
        )

    def to_json(self) -> dict[str, Any]:
        out = {f.name: json_safe(getattr(self, f.name)) for f in fields(self) if f.name != "activity"}
        out["activity"] = [entry.to_json() for entry in self.activity]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reply:
        # Missing keys fall back to the defaults, so replies stored by older versions load.
        return cls(
            content=data.get("content") or "",
            reasoning=data.get("reasoning") or "",
            usage=data.get("usage"),
            statuses=list(data.get("statuses") or ()),
            sources=list(data.get("sources") or ()),
            code_executions=list(data.get("code_executions") or ()),
            notifications=list(data.get("notifications") or ()),
            files=list(data.get("files") or ()),
            embeds=list(data.get("embeds") or ()),
            follow_ups=list(data.get("follow_ups") or ()),
            title=data.get("title"),
            error=data.get("error"),
            error_detail=data.get("error_detail"),
            traceback=data.get("traceback"),
            finish_reason=data.get("finish_reason"),
            status=data.get("status", "done"),
            activity=[ActivityEntry.from_json(entry) for entry in data.get("activity") or ()],
        )

    @classmethod
    def from_row(cls, message: MessageRow, events: list[tuple[float, Any]] | None = None) -> Reply:
        """A stored assistant message, with its stored events as the activity when given."""
        reply = cls.from_json(
            {
                **(message.extra or {}),
                "content": message.content,
                "reasoning": message.reasoning or "",
                "usage": message.usage,
                "error": message.error,
                "status": message.status,
            }
        )
        if events is not None:
            reply.activity = activity_from_records(events)
        return reply

    def row_fields(self) -> dict[str, Any]:
        """The stored message's columns for this reply (activity is stored as events)."""
        own = ("content", "reasoning", "usage", "error", "status", "activity")
        extra = {f.name: json_safe(getattr(self, f.name)) for f in fields(self) if f.name not in own}
        return {
            "content": self.content, "reasoning": self.reasoning, "status": self.status,
            "error": self.error, "usage": json_safe(self.usage), "extra": extra,
        }


def activity_from_records(events: list[tuple[float, Any]]) -> list[ActivityEntry]:
    """Stored event records, in order, as activity entries (unknown records are skipped)."""
    return [entry for at, record in events if (entry := ActivityEntry.from_record(at, record)) is not None]


@dataclass(frozen=True, slots=True)
class Update:
    """What one step changed, so a front end can render incrementally.

    The text a front end shows is what the `text` of every update added, each `replaced`
    starting it over; at the end it is exactly the finished reply's `content`."""

    text: str = ""  # visible text appended
    replaced: str | None = None  # the visible text now, in place of everything shown so far
    reasoning: str = ""  # reasoning text appended
    event: ActivityEntry | None = None  # the activity entry this step added
    parts: ReplyParts | None = None  # the parts around the text, when this step changed them

    @property
    def changes_text(self) -> bool:
        return bool(self.text) or self.replaced is not None


NO_CHANGE: Final = Update()


@dataclass(frozen=True, slots=True)
class Finished:
    """The end of a reply: the last change to show, and the reply as stored."""

    update: Update
    reply: Reply


def json_safe(value: Any) -> Any:
    """`value` with anything JSON cannot hold turned into text, so a reply can always be stored."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Mapping):
        return {key if isinstance(key, str) else str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return repr(value)
