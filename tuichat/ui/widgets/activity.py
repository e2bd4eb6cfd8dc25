"""The activity pane: every event of the selected reply, in order, with its time.

Events the reply shows elsewhere get a one-line summary (a status as its status line, a source
as its documents, files as their names); event types tuichat does not know stay raw JSON.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.widgets import RichLog

from tuichat.runtime.reply.model import ActivityEntry
from tuichat.ui.widgets.reply import status_text

NO_EVENTS = "No events yet"
NO_REPLY_EVENTS = "No events for this reply"
LISTED = 3  # source titles or file names named on a line; the rest is "…"


def describe(entry: ActivityEntry) -> Text:
    """One line for an event, an event call and its answer, or an error."""
    line = Text.assemble((f"+{entry.at:6.2f}s ", "dim"))  # a span: the rest of the line is not dim
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
    text = Text.assemble((f"[{kind}] ", "bold"))
    if kind == "status":
        state = "done" if body.get("done") else "running"
        hidden = ", hidden" if body.get("hidden") else ""
        text.append(f"{status_text(body)} ({state}{hidden})")
    elif kind in ("message", "chat:message:delta", "replace", "chat:message"):
        text.append(_json(body.get("content")))
    elif kind == "notification":
        text.append(f"{body.get('type', 'info')}: {body.get('content', '')}")
    elif kind == "chat:title":
        text.append(str(data))
    elif kind in ("source", "citation") and body:
        text.append(source_summary(body))
    elif kind in ("files", "chat:message:files") and isinstance(body.get("files"), list):
        text.append(files_summary(body["files"]))
    else:
        text.append(_json(data))
    return text


def source_summary(source: dict[str, Any]) -> str:
    """`3 documents from "Wikipedia": title1, title2, title3…`: what one source/citation event holds.
    A document is titled like Open WebUI's citation chips: `metadata[i].name`, else its source/url."""
    if source.get("type") == "code_execution":
        return f"code execution {source.get('name') or source.get('id') or ''}".rstrip()
    documents = source.get("document") if isinstance(source.get("document"), list) else []
    metadata = source.get("metadata") if isinstance(source.get("metadata"), list) else []
    origin = source.get("source") if isinstance(source.get("source"), dict) else {}
    titles: list[str] = []
    for meta in metadata:
        if isinstance(meta, dict):
            title = next((str(meta[k]) for k in ("name", "title", "source", "url") if meta.get(k)), None)
            if title is not None and title not in titles:
                titles.append(title)
    count = len(documents)
    line = f"{count} document" + ("" if count == 1 else "s")
    name = next((str(origin[k]) for k in ("name", "id", "url") if origin.get(k)), None)
    if name is not None:
        line += f' from "{name}"'
    return line + (f": {_listed(titles)}" if titles else "")


def files_summary(files: list[Any]) -> str:
    """`2 files: report.pdf (file), data:image/png (image)`: names (or urls) and types."""
    names = []
    for item in files:
        if isinstance(item, dict):
            name = item.get("name") or item.get("filename") or _url_label(item.get("url"))
            kind = str(item.get("type") or "file")
            names.append(f"{name} ({kind})" if name else kind)
    count = len(files)
    return f"{count} file" + ("" if count == 1 else "s") + (f": {_listed(names)}" if names else "")


def _url_label(url: Any) -> str:
    """A url fit for one line: a data: url by its media type, a long one by its last part."""
    if not isinstance(url, str) or not url:
        return ""
    if url.startswith("data:"):
        return url.split(",", 1)[0].split(";", 1)[0]
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail and len(url) > 60 else url


def _listed(items: list[str]) -> str:
    return ", ".join(items[:LISTED]) + ("…" if len(items) > LISTED else "")


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)


class ActivityPane(RichLog):
    DEFAULT_CSS = """
    ActivityPane {
        height: 8;
        overflow-y: auto;
        /* Lines are wrapped when written: keep the scrollbar's room so they fit once it shows. */
        scrollbar-gutter: stable;
        border: tall $border-blurred;
        border-title-color: $text-muted;
    }
    ActivityPane:focus {
        border: tall $border;
        border-title-color: $text;
        border-title-style: bold;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        # min_width=1: RichLog otherwise wraps at 78 columns, wider than the pane, and clips.
        super().__init__(id=id, wrap=True, markup=False, max_lines=5000, min_width=1)
        self.border_title = "Activity"
        self._empty = False  # only the "no events" line is shown

    def on_mount(self) -> None:
        self.show([], NO_EVENTS)

    def show(self, entries: list[ActivityEntry], empty: str = NO_REPLY_EVENTS) -> None:
        """List `entries`, or a dim `empty` line when there are none."""
        self.clear()
        for entry in entries:
            self.write(describe(entry))
        self._empty = not entries
        if self._empty:
            self.write(Text(empty, style="dim italic"))

    def add(self, entry: ActivityEntry) -> None:
        if self._empty:
            self.clear()
            self._empty = False
        self.write(describe(entry))
