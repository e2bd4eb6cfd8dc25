"""A reply as a chat shows it: its text, reasoning, parts and activity, and what one step changed.

`Reply` is owned by the runtime: `ReplyBuilder` fills it from an invocation's steps,
`Reply.from_row` reads a stored one back, and front ends only read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final, Literal

ReplyStatus = Literal["streaming", "done", "stopped", "error"]
ActivityKind = Literal["event", "call", "error"]
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

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "kind": self.kind, "data": json_safe(self.data)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ActivityEntry:
        return cls(at=float(data.get("at", 0.0)), kind=data.get("kind", "event"), data=data.get("data"))


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


@dataclass(frozen=True, slots=True)
class Update:
    """What one step changed, so a front end can render incrementally."""

    text: str = ""  # visible text appended
    replaced: bool = False  # content replaced wholesale: re-render it from the reply
    reasoning: str = ""  # reasoning text appended
    event: ActivityEntry | None = None  # the activity entry this step added
    error: bool = False  # the step recorded an error


NO_CHANGE: Final = Update()
ERROR_CHANGE: Final = Update(error=True)


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
