"""Task prompts as Open WebUI 0.12.4's utils/task.py renders them: the `{{MESSAGES…}}` and
`{{prompt…}}` variables, and chat messages as a task sees them."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tuichat.store import MessageRow

# The `{{MESSAGES}}` forms of utils/task.py:replace_messages_variable that a template
# without `|filters` can hold (the default templates use only {{MESSAGES:END:n}}).
_MESSAGES_VARIABLE: Final = re.compile(
    r"\{\{MESSAGES\}\}|\{\{MESSAGES:START:(\d+)\}\}|\{\{MESSAGES:END:(\d+)\}\}"
)
# utils/task.py:replace_prompt_variable's pattern.
_PROMPT_VARIABLE: Final = re.compile(
    r"{{prompt}}|{{prompt:start:(\d+)}}|{{prompt:end:(\d+)}}|{{prompt:middletruncate:(\d+)}}", re.IGNORECASE
)
# What background_tasks_handler strips from stored messages before a task sees them:
# <details> blocks (reasoning, tool calls) and markdown images.
_DETAILS_AND_IMAGES: Final = re.compile(
    r"<details\b[^<>]*>(?:(?!<details\b).)*?<\/details>|!\[[^\[\]]*\]\([^()]*\)",
    re.DOTALL | re.IGNORECASE,
)


def task_messages(rows: Sequence[MessageRow]) -> list[dict[str, Any]]:
    """Stored messages as a task sees them: role and content, with <details> blocks
    and markdown images removed (background_tasks_handler)."""
    return [
        {"role": row.role, "content": _DETAILS_AND_IMAGES.sub("", row.content).strip()}
        for row in rows
    ]


def render(template: str, messages: Sequence[Mapping[str, Any]]) -> str:
    """`{{prompt…}}` (the last user message) then `{{MESSAGES…}}`, in utils/task.py's order."""
    prompt = last_user_message(messages) or ""
    return render_messages(_PROMPT_VARIABLE.sub(lambda m: _prompt_part(m, prompt), template), messages)


def render_messages(template: str, messages: Sequence[Mapping[str, Any]]) -> str:
    def one(match: re.Match[str]) -> str:
        start, end = match.group(1), match.group(2)
        if start is not None:
            return messages_content(messages[: int(start)])
        if end is not None:
            return messages_content(messages[-int(end) :])
        return messages_content(messages)

    return _MESSAGES_VARIABLE.sub(one, template)


def messages_content(messages: Sequence[Mapping[str, Any]]) -> str:
    # utils/misc.py:get_messages_content, which formats a missing text as "None".
    return "\n".join(f"{str(message.get('role', '')).upper()}: {content_text(message)}" for message in messages)


def content_text(message: Mapping[str, Any]) -> Any:
    # utils/misc.py:get_content_from_message: the first text part of list content.
    content = message.get("content")
    if isinstance(content, list):
        return next(
            (part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"),
            None,
        )
    return content


def last_user_message(messages: Sequence[Mapping[str, Any]]) -> Any:
    return next((content_text(m) for m in reversed(messages) if m.get("role") == "user"), None)


def truncate_middle(text: str, limit: int) -> str:
    """utils/task.py:truncate_content in its default `middletruncate` mode: `limit`
    characters kept, joined by "..." (so the result is three characters longer)."""
    if limit <= 0:
        return ""
    if not text or len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}...{text[-(limit - half):]}"


def _prompt_part(match: re.Match[str], prompt: str) -> str:
    whole = match.group(0).lower()
    start, end, middle = match.group(1), match.group(2), match.group(3)
    if whole == "{{prompt}}":
        return prompt
    if start is not None:
        return prompt[: int(start)]
    if end is not None:
        return prompt[-int(end) :]
    if middle is not None:
        length = int(middle)
        if len(prompt) <= length:
            return prompt
        return f"{prompt[: math.ceil(length / 2)]}...{prompt[-math.floor(length / 2) :]}"
    return ""
