"""The bytes Open WebUI 0.12.4 puts on the wire for a pipe's output (spec §7.1, §7.2).

Everything here is on the per-chunk hot path, so it builds JSON directly and
avoids needless copies.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
from pydantic import BaseModel

DONE_LINE = "data: [DONE]"

# Open WebUI's JSONCodec escapes these after orjson so the text is safe in JS.
_JS_UNSAFE = {0x2028: "\\u2028", 0x2029: "\\u2029", 0x85: "\\u0085"}


def dumps(obj: Any) -> str:
    text = orjson.dumps(obj).decode()
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = text.translate(_JS_UNSAFE)
    return text


def chunk(model: str, content: Any = None) -> dict[str, Any]:
    """`openai_chat_chunk_message_template`: a falsy content makes it a stop chunk."""
    choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": None, "delta": {}}
    if content:
        choice["delta"]["content"] = content
    else:
        choice["finish_reason"] = "stop"
    return {
        "id": f"{model}-{uuid.uuid4()}",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "object": "chat.completion.chunk",
    }


def completion(model: str, message: str | None) -> dict[str, Any]:
    """`openai_chat_completion_message_template`: no `message` key when message is None."""
    choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": "stop"}
    if message is not None:
        choice["message"] = {"role": "assistant", "content": message}
    return {
        "id": f"{model}-{uuid.uuid4()}",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "object": "chat.completion",
    }


def chunk_line(model: str, content: Any = None) -> str:
    return f"data: {dumps(chunk(model, content))}\n\n"


def error_line(detail: str) -> str:
    return f"data: {dumps({'error': {'detail': detail}})}\n\n"


def process_line(model: str, line: Any) -> str:
    """One yielded item to one SSE string; non-strings fail exactly as in Open WebUI."""
    if isinstance(line, BaseModel):
        line = f"data: {line.model_dump_json()}"
    if isinstance(line, dict):
        line = f"data: {dumps(line)}"
    try:
        line = line.decode("utf-8")
    except Exception:
        pass
    if line.startswith("data:"):
        return f"{line}\n\n"
    return chunk_line(model, line)
