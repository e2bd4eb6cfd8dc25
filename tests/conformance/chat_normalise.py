"""The chat-path checker's normalisation (tests/conformance/chat/README.md, "Normalisation"),
applied to both sides: the reply's content split into text and marker JSON, ids, uuids,
times, variables and Open WebUI's builtin tools made comparable."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MARKERS = ("PIPE_ECHO", "STREAM_SAW", "OUTLET_SAW")
ORACLE_IDS = ("oracle-assistant-msg-1", "oracle-user-msg-1", "oracle-session-1")
ID_KEYS = ("__chat_id__", "chat_id", "__message_id__", "message_id", "__session_id__", "session_id", "user_message_id")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}")
TIME_IN_TEXT = re.compile(r'("(?:created|timestamp|[A-Za-z_]*_at)"\s*:\s*)\d+(?:\.\d+)?', re.IGNORECASE)


def _json_literals_lowered(text: str) -> str:
    """Upper-cased JSON (a stream filter upper-cased the echo) read back: TRUE, FALSE, NULL."""
    out, in_string, escaped, i = [], False, False, 0
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            escaped = not escaped and c == "\\"
            if c == '"' and not escaped:
                in_string = False
            if c != "\\":
                escaped = False if c != "\\" else escaped
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
            continue
        for word in ("TRUE", "FALSE", "NULL"):
            if text.startswith(word, i):
                out.append(word.lower())
                i += len(word)
                break
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_content(content: str) -> list[Any]:
    """Text and `[MARKER, json]` pieces in order."""
    pieces: list[Any] = []
    pattern = re.compile("|".join(f"{m} " for m in MARKERS))
    position = 0
    decoder = json.JSONDecoder()
    while (found := pattern.search(content, position)) is not None:
        start = found.end()
        try:
            value, end = decoder.raw_decode(content, start)
        except ValueError:
            lowered = _json_literals_lowered(content[start:])
            value, used = decoder.raw_decode(lowered)
            end = start + used
        if content[position : found.start()]:
            pieces.append(content[position : found.start()])
        pieces.append([found.group().strip(), value])
        position = end
    if content[position:]:
        pieces.append(content[position:])
    return pieces


def our_ids(pieces: list[Any]) -> list[str]:
    """The ids tuichat made, read from its reply (the echo first)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.lower() in ID_KEYS and isinstance(item, str) and item not in found:
                    found.append(item)
                walk(item)
            if value.get("role") in ("user", "assistant") and isinstance(value.get("id"), str) and value["id"] not in found:
                found.append(value["id"])
        elif isinstance(value, list):
            for item in value:
                walk(item)

    markers = [p[1] for p in pieces if isinstance(p, list)]
    markers.sort(key=lambda v: 0 if isinstance(v, dict) and "body" in v else 1)
    walk(markers)
    return [i for i in found if i and not i.startswith(("'", "<"))]


def _recorded_builtins() -> set[str]:
    """Open WebUI's 28 builtin tool names, as the baseline recording lists them."""
    echo = json.loads((Path(__file__).parent / "chat" / "baseline" / "expected.json").read_text())["pipe_echo"]["0"]
    names = echo["__tools__"]["<builtin>"]["names"]
    return set(names) | {n.upper() for n in names}


BUILTINS = _recorded_builtins()


def builtin_names(pieces: list[Any]) -> set[str]:
    names: set[str] = set(BUILTINS)
    for piece in pieces:
        if isinstance(piece, list) and isinstance(piece[1], dict):
            tools = piece[1].get("__tools__") or piece[1].get("__TOOLS__") or {}
            if isinstance(tools, dict):
                entry = tools.get("<builtin>") or tools.get("<BUILTIN>") or {}
                for name in entry.get("names") or entry.get("NAMES") or []:
                    names.update({name, name.upper()})
    return names


def normalise(value: Any, ids: list[str], builtins: set[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            lower = key.lower()
            if lower == "<builtin>":
                continue
            if lower in ("tools", "tools.keys") and isinstance(item, list):
                item = [t for t in item if t not in builtins]
            if lower == "variables" and isinstance(item, dict):
                item = dict.fromkeys(item, "<VAR>" if key.isupper() else "<var>")
            if (
                isinstance(item, (int, float))
                and not isinstance(item, bool)
                and (lower in ("created", "timestamp") or lower.endswith("_at"))
            ):
                item = 0
            item = normalise(item, ids, builtins)
            if lower == "path" and isinstance(item, str):  # "Upload paths" (an upload's stored copy)
                item = "<path>"
            if lower in ID_KEYS and item in ("<uuid>", "<UUID>"):  # the oracle's chat id
                item = "<ID>" if item == "<UUID>" else "<id>"
            out[key] = item
        return out
    if isinstance(value, list):
        return [normalise(item, ids, builtins) for item in value]
    if isinstance(value, str):
        return normalise_text(value, ids)
    return value


def normalise_text(text: str, ids: list[str]) -> str:
    for known in (*ORACLE_IDS, *ids):
        text = text.replace(known.upper(), "<ID>").replace(known.lower(), "<id>")
    text = UUID.sub(lambda m: "<UUID>" if m.group().isupper() else "<uuid>", text)
    text = re.sub(r"msg_[0-9a-f]{24}", "msg_<id>", text)
    text = re.sub(r"\b[0-9a-f]{32}\b", "<hex32>", text)
    text = re.sub(r"Today's date is: [^\n]*", "Today's date is: <date>", text)
    return TIME_IN_TEXT.sub(lambda m: m.group(1) + "0", text)


def comparable(content: str, ids: list[str] | None = None) -> tuple[list[Any], list[str]]:
    """The content as pieces, normalised; with the ids used (ours when `ids` is None)."""
    pieces = split_content(content)
    found = our_ids(pieces) if ids is None else ids
    return normalise(pieces, found, builtin_names(pieces)), found


def statuses(items: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        entry = {"description": item.get("description")}
        if item.get("action"):
            entry.update({k: v for k, v in item.items() if k not in ("done", "description")})
        out.append(entry)
    return out
