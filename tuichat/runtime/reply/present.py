"""How a reply and what happened during it read as text: the words every front end shows.

The TUI (reply parts, the activity pane, toasts), `tuichat run` and the exports all
describe replies with these functions, so they never disagree. Plain strings only: a
front end adds its own styling (the TUI bolds an activity line's tag, say). What an
`__event_call__` asks is read in `event_call_request.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from tuichat.runtime.reply.event_call_request import read_event_call
from tuichat.runtime.reply.model import ActivityEntry
from tuichat.runtime.untrusted import neutralise

T = TypeVar("T")
LISTED = 3  # source titles or file names named on one line; the rest is "…"
Severity = Literal["information", "warning", "error"]


# -- small text helpers -----------------------------------------------------------------------
def first_line(text: str | None, limit: int = 70) -> str:
    """The first non-blank line of `text`, cut to `limit` characters with an ellipsis."""
    line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def as_json(value: Any) -> str:
    """Compact JSON for a line of text; anything JSON cannot hold by its repr."""
    try:
        return json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _field(data: Mapping[str, Any], key: str, kind: type[T]) -> T:
    """`data[key]` if it is a `kind`, else an empty one: pipes send what they like."""
    value = data.get(key)
    return value if isinstance(value, kind) else kind()


def _listed(items: list[str]) -> str:
    return ", ".join(items[:LISTED]) + ("…" if len(items) > LISTED else "")


# -- model ids --------------------------------------------------------------------------------
def pipe_id_of(model_id: str) -> str:
    """The function that serves a model id: everything before the first '.'."""
    return model_id.split(".", 1)[0]


def sub_id_of(model_id: str) -> str | None:
    """A manifold sub-model's own id (after the first '.'), None for a plain pipe's model."""
    _, dot, sub = model_id.partition(".")
    return sub if dot else None


# -- the parts under a reply ------------------------------------------------------------------
def status_text(status: Mapping[str, Any]) -> str:
    """A status line as Open WebUI words it, with `{{count}}` and `{{searchQuery}}` filled in."""
    if not status.get("description") and status.get("action") in ("queries_generated", "sources_retrieved"):
        return retrieval_status_text(status)
    text = str(status.get("description") or status.get("action") or "")
    count = status.get("count", len(status.get("urls") or status.get("items") or ()))
    return text.replace("{{count}}", str(count)).replace("{{searchQuery}}", str(status.get("query", "")))


def retrieval_status_text(status: Mapping[str, Any]) -> str:
    """Attached files' statuses as Open WebUI's StatusItem shows them: `Querying "q1", "q2"`,
    `Retrieved 2 sources` (`No sources found`, `Retrieved 1 source`)."""
    if status.get("action") == "queries_generated":
        queries = [str(q) for q in status.get("queries") or [] if str(q).strip()]
        return "Querying" + (" " + ", ".join(f'"{q}"' for q in queries) if queries else "")
    count = status.get("count")
    return "No sources found" if count == 0 else "Retrieved 1 source" if count == 1 else f"Retrieved {count} sources"


def citations(sources: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """`(name, url)` per citation, grouped as Open WebUI's Citations.svelte groups documents:
    by `metadata[i].source`, else `source.id`, else "N/A". The group's first document names
    it (`metadata[i].name`, else `source.name`), and an http(s) id is its name and url."""
    grouped: dict[str, tuple[str, str]] = {}
    for source in sources:
        origin, metadata = _field(source, "source", dict), _field(source, "metadata", list)
        for index in range(len(_field(source, "document", list))):
            meta = metadata[index] if index < len(metadata) and isinstance(metadata[index], dict) else {}
            key = next((str(v) for v in (meta.get("source"), origin.get("id")) if v is not None), "N/A")
            if key in grouped:
                continue
            name, url = str(meta.get("name") or origin.get("name") or key), str(origin.get("url") or "")
            if key.startswith(("http://", "https://")):
                name = url = key
            grouped[key] = (name, url)
    return list(grouped.values())


def sources_text(sources: list[dict[str, Any]]) -> str:
    """One line per citation: `[1] name  url` (the url only when it is not the name)."""
    return "\n".join(
        f"[{n}] {name}" + (f"  {url}" if url and url != name else "")
        for n, (name, url) in enumerate(citations(sources), 1)
    )


def follow_ups_text(follow_ups: list[str]) -> str:
    """The suggested next questions (`chat:message:follow_ups`), one a line under a heading."""
    lines = [" ".join(item.split()) for item in follow_ups if item.strip()]
    return "\n".join(["Follow-ups:", *(f"  › {line}" for line in lines)]) if lines else ""


def usage_line(usage: Mapping[str, Any] | None) -> str:
    """The usage numbers on one line: `prompt_tokens 12 · completion_tokens 40 · …`."""
    numbers = [(k, v) for k, v in (usage or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return " · ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in numbers)


# -- one line per event -----------------------------------------------------------------------
def source_summary(source: Mapping[str, Any]) -> str:
    """`3 documents from "Wikipedia": title1, title2, title3…`: what one source/citation event holds.
    A document is titled like Open WebUI's citation chips: `metadata[i].name`, else its source/url."""
    if source.get("type") == "code_execution":
        return f"code execution {source.get('name') or source.get('id') or ''}".rstrip()
    documents, metadata = _field(source, "document", list), _field(source, "metadata", list)
    origin = _field(source, "source", dict)
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


@dataclass(frozen=True, slots=True)
class Line:
    """An activity line: `[tag] text`, and a `detail` (a traceback) shown under it."""

    tag: str
    text: str
    detail: str = ""
    error: bool = False

    def __str__(self) -> str:
        head = f"[{self.tag}] {self.text}".rstrip()
        return f"{head}\n{self.detail}" if self.detail else head


def describe_event(event: Any) -> Line:
    """One line for an `__event_emitter__` event, as the activity pane and `tuichat run` show it."""
    if not isinstance(event, dict):
        return Line("event", as_json(event))
    kind = str(event.get("type"))
    data = event.get("data")
    body = data if isinstance(data, dict) else {}
    if kind == "status":
        state = "done" if body.get("done") else "running"
        hidden = ", hidden" if body.get("hidden") else ""
        return Line(kind, f"{status_text(body)} ({state}{hidden})")
    if kind in ("message", "chat:message:delta", "replace", "chat:message"):
        return Line(kind, as_json(body.get("content")))
    if kind == "notification":
        return Line(kind, f"{body.get('type', 'info')}: {body.get('content', '')}")
    if kind == "chat:title":
        return Line(kind, str(data))
    if kind in ("source", "citation") and body:
        return Line(kind, source_summary(body))
    if kind in ("files", "chat:message:files") and isinstance(body.get("files"), list):
        return Line(kind, files_summary(body["files"]))
    return Line(kind, as_json(data))


def describe_call(event: Any, reply: Any) -> Line:
    """An `__event_call__` and what it was answered: `[call:input] Your name → "Al"`."""
    request = read_event_call(event)
    kind = request.kind if request is not None else "?"
    title = (request.title or request.message) if request is not None else ""
    if request is not None and request.password and (isinstance(reply, str) or reply == {"masked": True}):
        reply = "•" * 8  # a password is never shown, nor its length (see `masking`)
    return Line(f"call:{kind}", f"{title} → {as_json(reply)}".strip())


def describe_entry(entry: ActivityEntry) -> Line:
    """An activity entry: an event, an event call with its answer, an error or a captured
    line, with control sequences made visible (`untrusted.neutralise`). An event or call
    a filter hook made is tagged with it: `[filter shout inlet] status: shouting (done)`."""
    line = _describe_entry(entry)
    if entry.source is not None:
        line = Line(hook_tag(entry.source), f"{line.tag}: {line.text}", line.detail, line.error)
    return Line(neutralise(line.tag), neutralise(line.text), neutralise(line.detail), line.error)


def _describe_entry(entry: ActivityEntry) -> Line:
    data = entry.data
    if entry.kind == "call" and isinstance(data, dict):
        return describe_call(data.get("call"), data.get("reply"))
    if entry.kind == "error" and isinstance(data, dict):
        return Line("error", str(data.get("message", "")), str(data.get("traceback") or "").rstrip(), error=True)
    if entry.kind == "log" and isinstance(data, dict):
        return describe_log(data)
    if entry.kind == "request" and isinstance(data, dict):
        return describe_request(data)
    return describe_event(data)


def hook_tag(record: Mapping[str, Any]) -> str:
    """`filter shout inlet`: the filter and hook a chat-path record or event comes from;
    `tool weather get_weather`: the tool function that emitted it or was called."""
    if "tool" in record:
        return f"tool {record.get('tool') or ''} {record.get('function', '')}".replace("  ", " ").strip()
    return f"filter {record.get('filter') or ''} {record.get('hook', '')}".replace("  ", " ").strip()


def describe_filter_hook(record: Mapping[str, Any]) -> Line:
    """A chat-path filter hook that ran, with its time and what it changed
    (`[filter f inlet] ran in 0.4 ms: edited the last user message (+1 char)`), a stream
    filter's tally for the whole stream, or a hook that failed (with its traceback)."""
    tag = hook_tag(record)
    if record.get("error"):
        return Line(tag, str(record["error"]), str(record.get("traceback") or "").rstrip(), error=True)
    if record.get("outcome"):
        return Line(tag, str(record["outcome"]))
    if "chunks" in record:
        return Line(tag, stream_summary(record))
    return Line(tag, hook_summary(record))


def describe_tool_run(record: Mapping[str, Any]) -> Line:
    """Legacy function calling (chatpath/legacy_tools.py): `[tool calling] asked ... it picked
    get_weather(...)`, `[tool echo_tools/get_weather] called with ...`, or what failed."""
    tag = f"tool {record['tool']}" if record.get("tool") else "tool calling"
    if record.get("error"):
        return Line(tag, str(record["error"]), str(record.get("traceback") or "").rstrip(), error=True)
    return Line(tag, str(record.get("text", "")))


def describe_tool_call(record: Mapping[str, Any]) -> Line:
    """A call the pipe made to a tool (`tool_calls.ToolCalls`): `[tool weather get_weather]
    called (city='Paris') in 2 ms → 'Sunny'`, the error it raised, or the stop that ended it."""
    tag = hook_tag(record)
    if record.get("error"):
        return Line(tag, str(record["error"]), str(record.get("traceback") or "").rstrip(), error=True)
    if record.get("outcome"):
        return Line(tag, str(record["outcome"]))
    return Line(tag, f"called ({record.get('arguments', '')}) in {_ms(record.get('ms', 0))} → {record.get('result', '')}")


def stream_summary(record: Mapping[str, Any]) -> str:
    """`120 chunks, 120 rewritten, 0 dropped, 4.1 ms in all` (and how many raised, if any)."""
    chunks, raised = record.get("chunks", 0), record.get("raised") or 0
    return (
        f"{chunks} chunk{'' if chunks == 1 else 's'}, {record.get('rewritten', 0)} rewritten, "
        f"{record.get('dropped', 0)} dropped" + (f" ({raised} raised)" if raised else "")
        + f", {_ms(record.get('ms', 0))} in all"
    )  # fmt: skip


def hook_summary(record: Mapping[str, Any]) -> str:
    """`ran in 0.4 ms: edited the last user message (+1 char)`, or `ran in 0.4 ms, no change`."""
    changes = record.get("changes")
    took = f"ran in {_ms(record.get('ms', 0))}"
    if not isinstance(changes, list):  # stored before changes were listed
        return took
    return f"{took}: {'; '.join(str(c) for c in changes)}" if changes else f"{took}, no change"


def _ms(ms: Any) -> str:
    try:
        value = float(ms)
    except (TypeError, ValueError):
        return f"{ms} ms"
    return f"{value:.2g} ms" if value < 10 else f"{value:,.0f} ms"


def describe_log(record: Mapping[str, Any]) -> Line:
    """A line the pipe printed or logged: `[stdout] text`, `[log:WARNING mylogger] text`."""
    if "filter" in record and "hook" in record:
        return describe_filter_hook(record)
    if "tool" in record and "function" in record:
        return describe_tool_call(record)
    if "tool" in record:
        return describe_tool_run(record)
    stream = str(record.get("stream", "log"))
    if stream == "log":
        label = f"log:{record.get('level', '')} {record.get('logger', '')}".rstrip()
    else:
        label = stream
    text = str(record.get("text", "")).rstrip("\n")
    return Line(label, text, error=stream == "host" or record.get("level") in ("ERROR", "CRITICAL"))


def describe_request(record: Mapping[str, Any]) -> Line:
    """The call record: which dunders the pipe declared and got, which valves applied."""
    given = ", ".join(record.get("given") or []) or "none"
    valves = ", ".join(sorted(record.get("valves") or {})) or "none"
    user_valves = ", ".join(sorted(record.get("user_valves") or {})) or "none"
    return Line("request", f"{record.get('model', '')}: dunders {given}; valves {valves}; user valves {user_valves}")


# -- what some events mean to a front end -----------------------------------------------------
@dataclass(frozen=True, slots=True)
class Notification:
    """A `notification` event: shown as a toast, as Open WebUI does."""

    severity: Severity
    text: str


def notification_of(entry: ActivityEntry) -> Notification | None:
    data = entry.data if entry.kind == "event" and isinstance(entry.data, dict) else {}
    if data.get("type") != "notification" or not isinstance(data.get("data"), dict):
        return None
    body = data["data"]
    kind = body.get("type", "info")
    severity: Severity = "error" if kind == "error" else "warning" if kind == "warning" else "information"
    return Notification(severity, str(body.get("content", "")))


def title_of(entry: ActivityEntry) -> str | None:
    """The title a `chat:title` event sets (stripped), None for any other entry or an empty one."""
    data = entry.data if entry.kind == "event" and isinstance(entry.data, dict) else {}
    if data.get("type") != "chat:title" or not isinstance(data.get("data"), str):
        return None
    return data["data"].strip() or None
