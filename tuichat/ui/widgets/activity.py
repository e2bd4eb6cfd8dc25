"""The activity pane: every event of the selected reply, in order, with its time."""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import RichLog

from tuichat.runtime.reply import ActivityEntry


def describe(entry: ActivityEntry) -> Text:
    """One line for an event, an event call and its answer, or an error."""
    line = Text(f"+{entry.at:6.2f}s ", style="dim")
    data = entry.data
    if entry.kind == "call" and isinstance(data, dict):
        call = data.get("call") if isinstance(data.get("call"), dict) else {}
        title = (call.get("data") or {}).get("title", "") if isinstance(call.get("data"), dict) else ""
        line.append(f"[{call.get('type', 'call')}] ", style="bold")
        line.append(f"{title} → {_json(data.get('reply'))}")
    elif entry.kind == "error" and isinstance(data, dict):
        line.append("[error] ", style="bold red")
        line.append(str(data.get("message", "")))
        if data.get("traceback"):
            line.append("\n" + str(data["traceback"]).rstrip(), style="dim")
    else:
        line.append_text(_event(data))
    return line


def _event(event: Any) -> Text:
    if not isinstance(event, dict):
        return Text(f"[event] {_json(event)}")
    kind = str(event.get("type"))
    data = event.get("data")
    body = data if isinstance(data, dict) else {}
    text = Text(f"[{kind}] ", style="bold")
    if kind == "status":
        state = "done" if body.get("done") else "running"
        hidden = ", hidden" if body.get("hidden") else ""
        text.append(f"{body.get('description', '')} ({state}{hidden})")
    elif kind in ("message", "chat:message:delta", "replace", "chat:message"):
        text.append(_json(body.get("content")))
    elif kind == "notification":
        text.append(f"{body.get('type', 'info')}: {body.get('content', '')}")
    elif kind == "chat:title":
        text.append(str(data))
    else:
        text.append(_json(data))
    return text


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)


class ActivityPane(RichLog):
    DEFAULT_CSS = """
    ActivityPane {
        height: 8;
        border: tall $border-blurred;
        border-title-color: $text-muted;
    }
    ActivityPane:focus {
        border: tall $border;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        # min_width=1: RichLog otherwise wraps at 78 columns, wider than the pane, and clips.
        super().__init__(id=id, wrap=True, markup=False, max_lines=5000, min_width=1)
        self.border_title = "Activity"

    def show(self, entries: list[ActivityEntry]) -> None:
        self.clear()
        for entry in entries:
            self.write(describe(entry))

    def add(self, entry: ActivityEntry) -> None:
        self.write(describe(entry))
