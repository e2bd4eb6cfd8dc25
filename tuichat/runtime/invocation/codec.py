"""The bytes Open WebUI 0.12.4 puts on the wire for a pipe's output (spec §7.1, §7.2).

Everything here is on the per-chunk hot path, so it builds JSON directly and
avoids needless copies.
"""

from __future__ import annotations

import json
import random
import time
from functools import lru_cache
from typing import Any

import orjson
from pydantic import BaseModel

DONE_LINE = "data: [DONE]"

# Open WebUI's JSONCodec escapes these after orjson so the text is safe in JS.
_JS_UNSAFE = {0x2028: "\\u2028", 0x2029: "\\u2029", 0x85: "\\u0085"}


def dumps(obj: Any) -> str:
    """Open WebUI's `JSONCodec.dumps`: compact orjson; what orjson refuses (a non-str dict
    key, an int beyond 64 bits) falls back to stdlib `json.dumps` and its formatting."""
    try:
        text = orjson.dumps(obj).decode()
    except (TypeError, ValueError):
        return json.dumps(obj)
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = text.translate(_JS_UNSAFE)
    return text


_VERSION_4 = 0x4 << 76  # the uuid4 version nibble and RFC 4122 variant bits
_VARIANT = 0x8 << 60
_CLEAR = ~((0xF << 76) | (0xC << 60))


def uuid4() -> str:
    """A uuid4-shaped id. These ids are run-to-run noise, not secrets, so the fast
    Mersenne Twister replaces `uuid.uuid4()` (os.urandom), which costs ~5x more."""
    n = (random.getrandbits(128) & _CLEAR) | _VERSION_4 | _VARIANT
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def chunk(model: str, content: Any = None) -> dict[str, Any]:
    """`openai_chat_chunk_message_template`: a falsy content makes it a stop chunk."""
    choice: dict[str, Any] = {"index": 0, "logprobs": None, "finish_reason": None, "delta": {}}
    if content:
        choice["delta"]["content"] = content
    else:
        choice["finish_reason"] = "stop"
    return {
        "id": f"{model}-{uuid4()}",
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
        "id": f"{model}-{uuid4()}",
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "object": "chat.completion",
    }


@lru_cache(maxsize=256)
def _chunk_parts(model: str) -> tuple[str, str]:
    """The constant text around a chunk's id, created and content, per model."""
    model_json = dumps(model)
    head = f'data: {{"id":{model_json[:-1]}-'
    middle = f',"model":{model_json},"choices":[{{"index":0,"logprobs":null,'
    return head, middle


def chunk_line(model: str, content: Any = None) -> str:
    """`data: <chunk>\n\n`, byte-identical to dumping `chunk()`, without building the dict."""
    if not isinstance(content, str) or not content:
        return f"data: {dumps(chunk(model, content))}\n\n"
    head, middle = _chunk_parts(model)
    return (
        f'{head}{uuid4()}","created":{int(time.time())}{middle}'
        f'"finish_reason":null,"delta":{{"content":{dumps(content)}}}}}],"object":"chat.completion.chunk"}}\n\n'
    )


def error_line(detail: str) -> str:
    return f"data: {dumps({'error': {'detail': detail}})}\n\n"


def process_line(model: str, line: Any) -> str:
    """One yielded item to one SSE string; non-strings fail exactly as in Open WebUI."""
    if type(line) is str:  # the common case, without the failed .decode() below
        return f"{line}\n\n" if line.startswith("data:") else chunk_line(model, line)
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
