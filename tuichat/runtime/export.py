"""A chat as Markdown (to read or share) or as JSON (everything stored, to keep).

Both are pure functions of stored rows, so the same chat always exports to the same
text: times come from the rows (in UTC), never from the clock or the local zone. The
Markdown is text to read, so control characters a pipe sent show as their pictures
(`untrusted.neutralise`); the JSON keeps everything verbatim. A reply's text is kept as
the pipe wrote it, `<details>` blocks and images included (Markdown viewers render them as
folds and pictures, as Open WebUI does); the files it sent are listed under it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from tuichat.runtime.attached import describe_files
from tuichat.runtime.reply.masking import masked_call_record
from tuichat.runtime.reply.media import human_size, load, media_of_file
from tuichat.runtime.reply.model import Reply
from tuichat.runtime.reply.present import citations, status_text
from tuichat.runtime.untrusted import neutralise
from tuichat.store import ChatRow, MessageRow
from tuichat.store.chats import Event

EXPORT_FORMAT: Final = "tuichat.chat"
EXPORT_VERSION: Final = 1  # bump when the JSON shape changes, for a future import

_ROLE_HEADINGS: Final = {"user": "User", "assistant": "Assistant", "system": "System"}
# Said under a message whose status is not "done" (an error with text quotes the text).
_STATUS_NOTES: Final = {
    "streaming": "_Still streaming when exported._",
    "stopped": "_Stopped before the end._",
    "error": "_The reply failed._",
}


def chat_to_markdown(chat: ChatRow, messages: Sequence[MessageRow]) -> str:
    # A heading is one line: a title with line breaks would end it early.
    title = " ".join(chat.title.split()) or "Untitled chat"
    blocks = [f"# {title}", _chat_facts(chat)]
    blocks += [_message_markdown(message) for message in messages]
    return neutralise("\n\n".join(block for block in blocks if block) + "\n")


def chat_to_json(
    chat: ChatRow,
    messages: Sequence[MessageRow],
    events_by_message: Mapping[str, Sequence[Event]],
) -> dict[str, Any]:
    """Every stored field of the chat and its messages, each message with its events
    in the order they came. JSON-ready: the stored values came from JSON already. A password
    answer is masked, also in events stored before tuichat masked them as they came."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "chat": dataclasses.asdict(chat),
        "messages": [
            {
                **dataclasses.asdict(message),
                "events": [
                    {"at": at, "data": masked_call_record(data)}
                    for at, data in events_by_message.get(message.id, ())
                ],
            }
            for message in messages
        ],
    }


# -- Markdown pieces -----------------------------------------------------------------


def _chat_facts(chat: ChatRow) -> str:
    facts = [f"- Created: {_utc(chat.created_at)}"]
    if chat.model_id:
        facts.append(f"- Model: `{chat.model_id}`")
    if chat.system_prompt:
        facts.append("- System prompt:\n\n" + _quote(chat.system_prompt))
    return "\n".join(facts)


def _message_markdown(message: MessageRow) -> str:
    reply = Reply.from_json(message.extra)  # statuses and sources, as the runtime kept them
    blocks = [
        _heading(message),
        _attachments(message.files),
        _shown_status(reply),
        _reasoning(message.reasoning),
        # Leading spaces may be Markdown (an indented code block): keep them.
        message.content.strip("\n").rstrip(),
        _outcome(message),
        _files(reply.files),
        _sources(reply.sources),
    ]
    return "\n\n".join(block for block in blocks if block)


def _heading(message: MessageRow) -> str:
    role = _ROLE_HEADINGS.get(message.role, message.role.capitalize())
    model = f" · `{message.model_id}`" if message.model_id else ""
    return f"## {role}{model}"


def _attachments(files: Sequence[Mapping[str, Any]]) -> str:
    """The files and images sent with a message, by name, type and size (the JSON has the items)."""
    lines = describe_files(files)
    return "**Attachments**\n\n" + "\n".join(f"- {line}" for line in lines) if lines else ""


def _outcome(message: MessageRow) -> str:
    if message.error:
        return _quote(f"**Error:** {message.error}")
    return _STATUS_NOTES.get(message.status, "")


def _shown_status(reply: Reply) -> str:
    # The status line Open WebUI shows above a reply: the last one, unless hidden.
    status = reply.shown_status
    text = status_text(status) if status else ""
    return f"_{text}_" if text else ""


def _reasoning(reasoning: str | None) -> str:
    if not reasoning or not reasoning.strip():
        return ""
    # Blank lines around the text let Markdown inside the HTML block render.
    return f"<details>\n<summary>Reasoning</summary>\n\n{reasoning.strip()}\n\n</details>"


def _sources(sources: Sequence[Any]) -> str:
    """The citations as Open WebUI's chips group them, one list item each."""
    items = citations([source for source in sources if isinstance(source, dict)])
    lines = [f"- <{url}>" if url and url == name else f"- [{name}]({url})" if url else f"- {name}" for name, url in items]
    return "**Sources**\n\n" + "\n".join(lines) if lines else ""


def _files(files: Sequence[Any]) -> str:
    """The files a pipe sent (`files` events): name, type and size; a data URL's bytes are
    left out (the JSON export keeps them), any other address is given."""
    lines = []
    for item in files:
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or "")
        media = media_of_file(item)
        name = media.name or ("" if url.startswith("data:") else url) or "unnamed"
        facts = [str(item.get("type") or "file")]
        if url.startswith("data:"):
            loaded = load(url)
            facts += [loaded.where[len("data:") :]] + ([human_size(loaded.size)] if loaded.size is not None else [])
        elif url and url != name:
            facts.append(f"<{url}>")
        lines.append(f"- {name} ({', '.join(facts)})")
    return "**Files**\n\n" + "\n".join(lines) if lines else ""


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
