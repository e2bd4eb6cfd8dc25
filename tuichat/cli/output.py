"""Plain-text output for the CLI: tables, JSON, and one-line event descriptions."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def dump_json(value: Any, *, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=repr)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO = sys.stdout) -> None:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)


def describe_event(event: Any) -> str:
    """One line for an event, as the activity pane would name it."""
    if not isinstance(event, dict):
        return f"[event] {dump_json(event)}"
    kind = event.get("type")
    data = event.get("data")
    payload = data if isinstance(data, dict) else {}
    if kind == "status":
        state = "status" if payload.get("done") else "status:running"
        hidden = " (hidden)" if payload.get("hidden") else ""
        return f"[{state}] {payload.get('description', '')}{hidden}"
    if kind in ("message", "chat:message:delta"):
        return f"[{kind}] +{dump_json(payload.get('content'))}"
    if kind in ("replace", "chat:message"):
        return f"[{kind}] ={dump_json(payload.get('content'))}"
    if kind in ("citation", "source"):
        return f"[{kind}] {_source_name(payload)}"
    if kind == "notification":
        return f"[notification:{payload.get('type', 'info')}] {payload.get('content', '')}"
    if kind == "chat:title":
        return f"[chat:title] {data}"
    if kind in ("files", "chat:message:files"):
        files = payload.get("files") or []
        return f"[{kind}] {len(files)} file(s): " + ", ".join(str(f.get("name") or f.get("url", "?"))[:60] for f in files if isinstance(f, dict))
    return f"[{kind}] {dump_json(data)}"


def describe_call(event: Any, reply: Any) -> str:
    kind = event.get("type") if isinstance(event, dict) else "?"
    data = event.get("data") if isinstance(event, dict) else None
    title = data.get("title") or data.get("message") if isinstance(data, dict) else ""
    return f"[call:{kind}] {title} -> {dump_json(reply)}"


def _source_name(payload: dict[str, Any]) -> str:
    source = payload.get("source") if isinstance(payload.get("source"), dict) else {}
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), list) else []
    first = metadata[0] if metadata and isinstance(metadata[0], dict) else {}
    name = first.get("name") or first.get("source") or source.get("name") or source.get("id") or "N/A"
    url = source.get("url") or ""
    return f"{name} {url}".strip()
