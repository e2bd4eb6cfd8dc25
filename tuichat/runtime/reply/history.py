"""Stored messages back into what a chat shows: the reply and its activity."""

from __future__ import annotations

from typing import Any

from tuichat.runtime.reply.model import ActivityEntry, Reply
from tuichat.store import MessageRow


def reply_of(message: MessageRow) -> Reply:
    return Reply.from_json(
        {
            **(message.extra or {}),
            "content": message.content,
            "reasoning": message.reasoning or "",
            "usage": message.usage,
            "error": message.error,
            "status": message.status,
        }
    )


def activity_of(events: list[tuple[float, Any]]) -> list[ActivityEntry]:
    """Stored event records (`{"event": E}`, `{"call": E, "reply": R}`, `{"error": ...}`) as entries."""
    entries = []
    for at, record in events:
        if isinstance(record, dict) and "call" in record:
            entries.append(ActivityEntry(at, "call", record))
        elif isinstance(record, dict) and "error" in record:
            entries.append(ActivityEntry(at, "error", record["error"]))
        elif isinstance(record, dict) and "event" in record:
            entries.append(ActivityEntry(at, "event", record["event"]))
    return entries
