"""`open_webui.utils.misc`: Open WebUI 0.12's message helpers and response templates.

Pure functions with Open WebUI's behaviour, quirks included, since pipes rely on
them: they index `message["role"]` (a message without one raises KeyError), the
"add or update" helpers mutate the list and message they are given and return
them, and `pop_system_message` copies the list instead. Spec §7.1 and §11.
"""

from __future__ import annotations

import collections.abc
import hashlib
import json
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from tuichat.compat._names import module_getattr

__all__ = [
    "add_or_update_system_message",
    "add_or_update_user_message",
    "append_or_update_assistant_message",
    "calculate_sha256",
    "calculate_sha256_bytes",
    "calculate_sha256_string",
    "convert_logit_bias_input_to_json",
    "deep_update",
    "extract_folders_after_data_docs",
    "extract_urls",
    "freeze",
    "get_allow_block_lists",
    "get_content_from_message",
    "get_gravatar_url",
    "get_last_assistant_message",
    "get_last_assistant_message_item",
    "get_last_user_message",
    "get_last_user_message_item",
    "get_message_list",
    "get_messages_content",
    "get_output_text",
    "get_system_message",
    "is_string_allowed",
    "merge_system_messages",
    "openai_chat_chunk_message_template",
    "openai_chat_completion_message_template",
    "openai_chat_message_template",
    "parse_duration",
    "pop_system_message",
    "prepend_to_first_user_message_content",
    "remove_system_message",
    "replace_message_content",
    "replace_system_message_content",
    "sanitize_data_for_db",
    "sanitize_filename",
    "sanitize_text_for_db",
    "set_last_user_message_content",
    "strip_empty_content_blocks",
    "update_message_content",
    "validate_email_format",
]

Message = dict[str, Any]

# -- reading messages -----------------------------------------------------------------


def get_content_from_message(message: Message) -> str | None:
    """The message's text: a string content, or the first text part of a list.

    Without either, the text of a Responses-style `output` (assistant messages
    Open WebUI 0.12 stores), else the empty string content, else None.
    """
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                text: str | None = part.get("text")
                return text
    elif content:
        return content  # type: ignore[no-any-return]  # as given, even if not a str
    return get_output_text(message.get("output")) or (content if isinstance(content, str) else None)


def get_output_text(output: Any) -> str:
    """The text of the `message` items of a Responses-style output, one per line."""
    if not isinstance(output, list):
        return ""
    texts = []
    for item in output:
        if not isinstance(item, dict) or item.get("type") != "message":
            continue
        parts = item.get("content") or []
        if not isinstance(parts, list):
            continue
        text = "".join(
            str(part["text"])
            for part in parts
            if isinstance(part, dict) and part.get("text") is not None
        )
        if text and not text.isspace():
            texts.append(text)
    return "\n".join(texts)


def get_messages_content(messages: Sequence[Message]) -> str:
    """`"ROLE: text"` per message, one per line."""
    return "\n".join(
        f"{message['role'].upper()}: {get_content_from_message(message)}" for message in messages
    )


def get_last_user_message_item(messages: Sequence[Message]) -> Message | None:
    return _last_with_role(messages, "user")


def get_last_user_message(messages: Sequence[Message]) -> str | None:
    message = get_last_user_message_item(messages)
    return None if message is None else get_content_from_message(message)


def get_last_assistant_message_item(messages: Sequence[Message]) -> Message | None:
    return _last_with_role(messages, "assistant")


def get_last_assistant_message(messages: Sequence[Message]) -> str | None:
    message = get_last_assistant_message_item(messages)
    return None if message is None else get_content_from_message(message)


def get_system_message(messages: Sequence[Message]) -> Message | None:
    """The first system message (the same dict, not a copy)."""
    return next((message for message in messages if message["role"] == "system"), None)


def remove_system_message(messages: Sequence[Message]) -> list[Message]:
    """A new list without any system message."""
    return [message for message in messages if message["role"] != "system"]


def pop_system_message(messages: Sequence[Message]) -> tuple[Message | None, list[Message]]:
    """The first system message, and a new list without system messages.

    Despite its name it leaves `messages` as it was.
    """
    return get_system_message(messages), remove_system_message(messages)


def get_message_list(
    messages_map: Mapping[Any, Message] | None, message_id: str | None
) -> list[Message]:
    """The branch ending at `message_id`, root first, following `parentId` links.

    Empty when the map or the message is missing; a cycle ends the walk.
    """
    if not messages_map:
        return []
    chain: list[Message] = []
    seen: set[str | None] = set()
    current = messages_map.get(message_id)
    while current and message_id not in seen:
        seen.add(message_id)
        chain.append(current)
        message_id = current.get("parentId")
        current = messages_map.get(message_id) if message_id else None
    chain.reverse()
    return chain


def _last_with_role(messages: Sequence[Message], role: str) -> Message | None:
    return next((message for message in reversed(messages) if message["role"] == role), None)


# -- changing messages (in place) ----------------------------------------------------


def update_message_content(message: Message, content: str, append: bool = True) -> Message:
    """Join `content` to the message's text on a new line: after it, or before it.

    For list content every text part is changed. Mutates and returns `message`.
    """
    if isinstance(message["content"], list):
        for part in message["content"]:
            if part["type"] == "text":
                part["text"] = _joined(part["text"], content, append)
    else:
        message["content"] = _joined(message["content"], content, append)
    return message


def replace_message_content(message: Message, content: str) -> Message:
    """Set the message's text; for list content, every text part. Mutates it."""
    if isinstance(message["content"], list):
        for part in message["content"]:
            if part["type"] == "text":
                part["text"] = content
    else:
        message["content"] = content
    return message


def add_or_update_system_message(
    content: str, messages: list[Message], append: bool = False
) -> list[Message]:
    """Put `content` in a system message at index 0: joined to the text of one already
    there (before it unless `append`), or as a new message. Mutates `messages`."""
    if messages and messages[0].get("role") == "system":
        messages[0] = update_message_content(messages[0], content, append)
    else:
        messages.insert(0, {"role": "system", "content": content})
    return messages


def add_or_update_user_message(
    content: str, messages: list[Message], append: bool = True
) -> list[Message]:
    """Put `content` in the user message at the end: joined to the text of one already
    there (after it unless `append` is False), or as a new message. Mutates `messages`."""
    if messages and messages[-1].get("role") == "user":
        messages[-1] = update_message_content(messages[-1], content, append)
    else:
        messages.append({"role": "user", "content": content})
    return messages


def append_or_update_assistant_message(content: str, messages: list[Message]) -> list[Message]:
    """Append `content` on a new line to a trailing assistant message (string content
    only), or add one. Mutates `messages`."""
    if messages and messages[-1].get("role") == "assistant":
        messages[-1]["content"] = f"{messages[-1]['content']}\n{content}"
    else:
        messages.append({"role": "assistant", "content": content})
    return messages


def prepend_to_first_user_message_content(content: str, messages: list[Message]) -> list[Message]:
    """Put `content` on a line before the first user message's text. Mutates it."""
    for message in messages:
        if message["role"] == "user":
            update_message_content(message, content, append=False)
            break
    return messages


def set_last_user_message_content(content: str, messages: list[Message]) -> list[Message]:
    """Replace the last user message's text: its content, or its first text part."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        if isinstance(message.get("content"), list):
            for part in message["content"]:
                if part.get("type") == "text":
                    part["text"] = content
                    break
        else:
            message["content"] = content
        break
    return messages


def replace_system_message_content(content: str, messages: list[Message]) -> list[Message]:
    """Set the first system message's content (a plain string, even over a list)."""
    for message in messages:
        if message["role"] == "system":
            message["content"] = content
            break
    return messages


def merge_system_messages(messages: Sequence[Message]) -> list[Message]:
    """A new list with one system message first: the texts of all of them, one per
    line (empty ones dropped), then the other messages in order."""
    texts: list[str] = []
    others: list[Message] = []
    for message in messages:
        if message.get("role") == "system":
            text = get_content_from_message(message)
            if text:
                texts.append(text)
        else:
            others.append(message)
    if not texts:
        return others
    return [{"role": "system", "content": "\n".join(texts)}, *others]


def strip_empty_content_blocks(messages: list[Message]) -> list[Message]:
    """Drop blank text parts from list contents, unless nothing would remain.

    Some providers refuse empty text blocks (a message of attachments only).
    """
    for message in messages:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        kept = [part for part in content if not _is_blank_text(part)]
        if kept:
            message["content"] = kept
    return messages


def _joined(old: str, new: str, append: bool) -> str:
    return f"{old}\n{new}" if append else f"{new}\n{old}"


def _is_blank_text(part: Any) -> bool:
    return (
        isinstance(part, dict) and part.get("type") == "text" and not part.get("text", "").strip()
    )


# -- OpenAI response templates (spec §7.1) -------------------------------------------


def openai_chat_message_template(model: str, message_id: str | None = None) -> dict[str, Any]:
    """The fields every chunk and completion has; a new id each time unless given."""
    return {
        "id": message_id or f"{model}-{uuid.uuid4()}",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": None}],
    }


def openai_chat_chunk_message_template(
    model: str,
    content: str | None = None,
    reasoning_content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    """A `chat.completion.chunk`; with no content, reasoning or tool calls, a stop chunk."""
    template = openai_chat_message_template(model, message_id)
    template["object"] = "chat.completion.chunk"
    choice = template["choices"][0]
    delta: dict[str, Any] = {}
    choice["delta"] = delta
    if content:
        delta["content"] = content
    if reasoning_content:
        delta["reasoning_content"] = reasoning_content
    if tool_calls:
        delta["tool_calls"] = tool_calls
    if not (content or reasoning_content or tool_calls):
        choice["finish_reason"] = "stop"
    if usage:
        template["usage"] = usage
    return template


def openai_chat_completion_message_template(
    model: str,
    message: str | None = None,
    reasoning_content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `chat.completion`, always finished with "stop"; no `message` when it is None."""
    template = openai_chat_message_template(model)
    template["object"] = "chat.completion"
    choice = template["choices"][0]
    if message is not None:
        reply: dict[str, Any] = {"role": "assistant", "content": message}
        if reasoning_content:
            reply["reasoning_content"] = reasoning_content
        if tool_calls:
            reply["tool_calls"] = tool_calls
        choice["message"] = reply
    choice["finish_reason"] = "stop"
    if usage:
        template["usage"] = usage
    return template


# -- other helpers -------------------------------------------------------------------


def deep_update(d: dict[Any, Any], u: Mapping[Any, Any]) -> dict[Any, Any]:
    """Merge `u` into `d` recursively, in place; `d`'s nested mappings become dicts."""
    for key, value in u.items():
        if isinstance(value, collections.abc.Mapping):
            d[key] = deep_update(d.get(key, {}), value)
        else:
            d[key] = value
    return d


def get_gravatar_url(email: str) -> str:
    address = str(email).strip().lower()
    return f"https://www.gravatar.com/avatar/{hashlib.sha256(address.encode()).hexdigest()}?d=mp"


def calculate_sha256(file_path: str | Path, chunk_size: int) -> str:
    """The hex SHA-256 of a file, read `chunk_size` bytes at a time."""
    digest = hashlib.sha256()
    with open(file_path, "rb") as file:
        while chunk := file.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def calculate_sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def calculate_sha256_string(string: str) -> str:
    return hashlib.sha256(string.encode("utf-8")).hexdigest()


def validate_email_format(email: str) -> bool:
    """Loose, as Open WebUI: `x@y.z`, or anything `@localhost`."""
    return email.endswith("@localhost") or bool(re.match(r"[^@]+@[^@]+\.[^@]+", email))


def sanitize_filename(file_name: str) -> str:
    """Lower-cased, punctuation removed, whitespace runs turned into dashes."""
    without_punctuation = re.sub(r"[^\w\s]", "", file_name.lower())
    return re.sub(r"\s+", "-", without_punctuation)


_SURROGATES = re.compile("[\ud800-\udfff]")


def sanitize_text_for_db(text: Any) -> Any:
    """`text` without NUL characters and lone surrogates; non-strings as they are."""
    if not isinstance(text, str):
        return text
    return _SURROGATES.sub("", text.replace("\x00", ""))


def sanitize_data_for_db(obj: Any) -> Any:
    """`sanitize_text_for_db` applied to every string in nested dicts and lists."""
    if isinstance(obj, str):
        return sanitize_text_for_db(obj)
    if isinstance(obj, dict):
        return {
            sanitize_text_for_db(key): sanitize_data_for_db(value) for key, value in obj.items()
        }
    if isinstance(obj, list):
        return [sanitize_data_for_db(value) for value in obj]
    return obj


def extract_folders_after_data_docs(path: str | Path) -> list[str]:
    """For `.../data/docs/a/b/file`: `["a", "a/b"]`; `[]` outside a data/docs folder."""
    parts = Path(path).parts
    try:
        docs_start = parts.index("docs", parts.index("data") + 1) + 1
    except ValueError:
        return []
    folders = parts[docs_start:-1]
    return ["/".join(folders[: depth + 1]) for depth in range(len(folders))]


_DURATION_PART = re.compile(r"(-?\d+(\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_UNITS = {
    "ms": "milliseconds",
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}


def parse_duration(duration: str) -> timedelta | None:
    """`"1h30m"` -> 1.5 hours; `"-1"` and `"0"` mean never (None). Raises ValueError
    when no number-and-unit part is found."""
    if duration in ("-1", "0"):
        return None
    parts = _DURATION_PART.findall(duration)
    if not parts:
        raise ValueError("Invalid duration string")
    total = timedelta()
    for number, _, unit in parts:
        total += timedelta(**{_DURATION_UNITS[unit]: float(number)})
    return total


def convert_logit_bias_input_to_json(logit_bias_input: Any) -> str | None:
    """`"50256:-100, 42:5"` (or a dict) as a JSON object; biases clamped to ±100."""
    if not logit_bias_input:
        return None
    if isinstance(logit_bias_input, dict):
        return json.dumps(logit_bias_input)
    biases = {}
    for pair in logit_bias_input.split(","):
        token, bias = pair.split(":")
        biases[str(token.strip())] = max(-100, min(100, int(bias.strip())))
    return json.dumps(biases)


def freeze(value: Any) -> Any:
    """A hashable version of nested dicts and lists."""
    if isinstance(value, dict):
        return frozenset((key, freeze(item)) for key, item in value.items())
    if isinstance(value, list):
        return tuple(freeze(item) for item in value)
    return value


def extract_urls(text: str) -> list[str]:
    return re.findall(r"(https?://[^\s]+)", text, re.IGNORECASE)


def get_allow_block_lists(filter_list: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """Split a domain filter: entries starting with "!" are blocked, the rest allowed."""
    allow: list[str] = []
    block: list[str] = []
    for entry in filter_list or ():
        if entry.startswith("!"):
            block.append(entry[1:].strip())
        else:
            allow.append(entry.strip())
    return allow, block


def is_string_allowed(
    string: str | Sequence[str], filter_list: Sequence[str] | None = None
) -> bool:
    """Whether a host name (or any of several) passes a domain filter, by suffix.

    With allowed entries one must match; a blocked entry always excludes.
    """
    if not filter_list:
        return True
    allow, block = get_allow_block_lists(filter_list)
    strings = [string] if isinstance(string, str) else list(string)
    if allow and not any(s.endswith(allowed) for s in strings for allowed in allow):
        return False
    return not any(s.endswith(blocked) for s in strings for blocked in block)


__getattr__ = module_getattr(__name__)
