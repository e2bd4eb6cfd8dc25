"""Open WebUI's builtin tools that need no server feature tuichat lacks (its tools/builtin.py):
`get_current_timestamp`, `calculate_timestamp` and `ask_user`. `open_webui.utils.tools`
offers them and hands them to models through `get_builtin_tools`; they live here only to keep
that module to one concern (specs and tool entries)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def get_current_timestamp(__request__: Any = None, __user__: dict | None = None) -> str:
    """
    Get the current Unix timestamp in seconds.

    :return: JSON with current_timestamp (seconds), current_iso (UTC ISO format), and user_local_iso (user's local time)
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    result: dict[str, Any] = {"current_timestamp": int(now.timestamp()), "current_iso": now.isoformat()}
    _add_local_time(result, now, None, __user__)
    return _dumps(result)


async def calculate_timestamp(
    days_ago: int = 0,
    weeks_ago: int = 0,
    months_ago: int = 0,
    years_ago: int = 0,
    __request__: Any = None,
    __user__: dict | None = None,
) -> str:
    """
    Get the current Unix timestamp, optionally adjusted by days, weeks, months, or years.
    Use this to calculate timestamps for date filtering in search functions.
    Examples: "last week" = weeks_ago=1, "3 days ago" = days_ago=3, "a year ago" = years_ago=1

    :param days_ago: Number of days to subtract from current time (default: 0)
    :param weeks_ago: Number of weeks to subtract from current time (default: 0)
    :param months_ago: Number of months to subtract from current time (default: 0)
    :param years_ago: Number of years to subtract from current time (default: 0)
    :return: JSON with current_timestamp and calculated_timestamp (both in seconds)
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    adjusted = now - datetime.timedelta(days=days_ago + weeks_ago * 7)
    if months_ago > 0 or years_ago > 0:
        adjusted = _minus_months(adjusted, months_ago + 12 * years_ago)
    result: dict[str, Any] = {
        "current_timestamp": int(now.timestamp()),
        "current_iso": now.isoformat(),
        "calculated_timestamp": int(adjusted.timestamp()),
        "calculated_iso": adjusted.isoformat(),
    }
    _add_local_time(result, now, adjusted, __user__)
    return _dumps(result)


def _minus_months(when: datetime.datetime, months: int) -> datetime.datetime:
    """dateutil's relativedelta(months=...): the same day, clamped to the month's length."""
    import calendar

    index = when.year * 12 + when.month - 1 - months
    year, month = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def _add_local_time(
    result: dict[str, Any], now: datetime.datetime, adjusted: datetime.datetime | None, user: dict | None
) -> None:
    tz_name = user.get("timezone") if user else None
    if not tz_name:
        return
    try:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz_name)
    except Exception:
        return
    result["user_local_iso"] = now.astimezone(zone).isoformat()
    if adjusted is not None:
        result["calculated_local_iso"] = adjusted.astimezone(zone).isoformat()
    result["user_timezone"] = tz_name


async def ask_user(
    questions: list[dict],
    allow_other: bool = True,
    timeout_ms: int = 120_000,
    __event_call__: Callable[..., Any] | None = None,
) -> str:
    """
    Ask the user clarifying questions before continuing.
    Use this when the next step depends on user intent, preference, or a tradeoff that cannot be inferred safely.

    :param questions: 1-3 question objects, each with id, header, question, and 2-3 options. Each option needs label and description.
        List the option you recommend first; the UI labels the first option Recommended.
    :param allow_other: Whether users may enter a free-form answer instead of choosing one of the options
    :param timeout_ms: How long the browser should keep the prompt open before cancelling it
    :return: JSON with status and answers keyed by question id
    """
    try:
        normalized = _questions(questions, allow_other)
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 60_000 <= timeout_ms <= 240_000:
            timeout_ms = 120_000
        if __event_call__ is None:
            return _dumps({"status": "error", "error": "User input requires an active browser session with WebSocket connection."})
        output = await __event_call__(
            {
                "type": "request:user_input",
                "data": {"questions": normalized, "allow_other": allow_other, "timeout_ms": timeout_ms},
            }
        )
        if not isinstance(output, dict):
            return _dumps({"status": "error", "error": "Invalid user input response."})
        if output.get("error"):
            return _dumps({"status": "error", "error": output.get("error")})
        if output.get("status") == "cancelled":
            return _dumps({"status": "cancelled", "answers": {}})
        return _dumps({"status": "answered", "answers": output.get("answers", {})})
    except Exception as exc:
        return _dumps({"status": "error", "error": str(exc)})


def _questions(questions: Any, allow_other: bool) -> list[dict[str, Any]]:
    if not isinstance(questions, list):
        raise ValueError("ask_user questions must be an array of question objects.")
    if not 1 <= len(questions) <= 3:
        raise ValueError("ask_user requires 1-3 questions.")
    normalized: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, question in enumerate(questions):
        if not isinstance(question, dict):
            raise ValueError("Each question must be an object.")
        question_id = str(question.get("id") or "").strip()[:64]
        if not question_id:
            raise ValueError("Each question requires a non-empty id.")
        if question_id in seen:
            raise ValueError(f"Duplicate question id: {question_id}")
        seen.add(question_id)
        options = question.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 3:
            raise ValueError("Each question requires 2-3 options.")
        normalized_options = []
        for option in options:
            if not isinstance(option, dict):
                raise ValueError("Each option must be an object.")
            label = str(option.get("label") or "").strip()[:80]
            description = str(option.get("description") or "").strip()[:240]
            if not label or not description:
                raise ValueError("Each option requires a label and description.")
            normalized_options.append({"label": label, "description": description})
        text = str(question.get("question") or "").strip()[:500]
        if not text:
            raise ValueError("Each question requires question text.")
        normalized.append(
            {
                "id": question_id,
                "header": str(question.get("header") or "").strip()[:48] or f"Question {index + 1}",
                "question": text,
                "options": normalized_options,
                "allow_other": bool(question.get("allow_other", allow_other)),
            }
        )
    return normalized
