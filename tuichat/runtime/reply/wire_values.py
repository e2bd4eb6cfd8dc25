"""Values in a pipe's output read as Open WebUI's chat reads them: a JSON line (None where
Open WebUI's `json.loads` would fail), a text field, a chunk's first choice, an event's
content, and the words an error value is shown as. The reply builder reads every SSE line
and response through these (`builder.py`), so what they accept is what a reply shows.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def json_or_none(text: str) -> Any:
    """Decode like Open WebUI's json.loads; None when it would fail. orjson first, for speed."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    # json.loads also takes NaN, Infinity and huge ints, which orjson refuses.
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def as_text(value: Any) -> str:
    # Open WebUI skips falsy values and formats the rest with f"{value}".
    if not value:
        return ""
    return value if isinstance(value, str) else f"{value}"


def first_choice(choices: Any) -> dict[str, Any] | None:
    # Open WebUI drops a chunk whose reading raises; checking the shape first does the same.
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return None


def event_content(data: Any) -> str | None:
    content = data.get("content") if isinstance(data, dict) else None
    return content if isinstance(content, str) else None


def wire_error_text(error: Any) -> str:
    """The text Open WebUI shows for an error value: its detail, message or content, else str()."""
    if isinstance(error, dict):
        for key in ("detail", "message", "content"):
            if key in error:
                return f"{error[key]}"
    return f"{error}"
