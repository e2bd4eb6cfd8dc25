"""The stream stage: every JSON chunk of the pipe's stream (the finish chunk too, not
`[DONE]`) through each stream filter in order. A hook's return replaces the chunk; a falsy
one drops it; one that raises drops only that chunk (Open WebUI logs it; we list it in the
activity), and later chunks still pass."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

import orjson

from tuichat.runtime.chatpath.filters import Filter
from tuichat.runtime.chatpath.hooks import call_hook
from tuichat.runtime.invocation import codec

Report = Callable[[dict[str, Any]], None]


def parse_chunk(text: str) -> dict[str, Any] | None:
    """The JSON object of a `data: {...}` line; None for anything else (`[DONE]`, text)."""
    if not text.startswith("data:"):
        return None
    payload = text[5:].strip()
    if not payload.startswith("{"):
        return None
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return chunk if isinstance(chunk, dict) else None


def delta_text(chunk: dict[str, Any]) -> str:
    """The content a chunk adds to the reply (what the outlets later see)."""
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta")
        if isinstance(delta, dict) and isinstance(delta.get("content"), str):
            return delta["content"]
    return ""


async def filter_chunk(
    chunk: dict[str, Any], filters: list[Filter], offered: dict[str, Any], report: Report, times: dict[str, float]
) -> dict[str, Any] | None:
    """The chunk after every stream filter; None when one dropped it. Each filter's time
    is added to `times[id]`."""
    event: Any = chunk
    for f in filters:
        began = time.monotonic()
        try:
            event = await call_hook(f, "stream", event, offered)
        except Exception as exc:
            times[f.id] += time.monotonic() - began
            report({"filter": f.id, "hook": "stream", "error": f"{type(exc).__name__}: {exc}",
                    "traceback": traceback.format_exc(), "outcome": "chunk dropped"})  # fmt: skip
            return None
        times[f.id] += time.monotonic() - began
        if not event:
            report({"filter": f.id, "hook": "stream", "outcome": "chunk dropped (it returned a falsy value)"})
            return None
    return event if isinstance(event, dict) else None


def encode_chunk(event: dict[str, Any]) -> str:
    return f"data: {codec.dumps(event)}\n\n"
