"""The outlet stage's body: Open WebUI builds it from the stored chat, not from what the
pipe got (`chat_completed`): the user message keeps its typed text (inlet edits are not
stored), the assistant message is the reply as stored after the stream stage."""

from __future__ import annotations

import time
from typing import Any


def outlet_body(metadata: dict[str, Any], model_id: str, messages: list[dict[str, Any]], content: str) -> dict[str, Any]:
    now = int(time.time())
    stored = [{"id": m.get("id"), "role": m.get("role"), "content": m.get("content"), "info": None,
               "timestamp": m.get("timestamp", now)} for m in messages]  # fmt: skip
    message_id = metadata.get("message_id")
    stored.append({
        "id": message_id, "role": "assistant", "content": content, "info": None, "timestamp": now,
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": content}]}],
        "finish_reason": "stop",
    })  # fmt: skip
    return {
        "model": model_id,
        "messages": stored,
        "filter_ids": list(metadata.get("filter_ids") or []),
        "chat_id": metadata.get("chat_id"),
        "session_id": metadata.get("session_id"),
        "id": message_id,
    }


def final_content(body: Any, message_id: Any) -> str | None:
    """The assistant message's content in what the outlets returned (None: not found)."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "assistant" and message.get("id") in (message_id, None):
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


def response_text(response: Any) -> str | None:
    """A non-streamed reply's text for the outlets; None when the pipe failed (no outlets)."""
    if not isinstance(response, dict) or "error" in response:
        return None
    try:
        content = response["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    return content if isinstance(content, str) else ""
