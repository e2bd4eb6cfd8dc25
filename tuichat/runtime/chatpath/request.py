"""The body and `__metadata__` of a chat turn as Open WebUI 0.12.4's web page posts it and
`main.chat_completion` completes it (the recordings in tests/conformance/chat show every key).

Built in the app, which knows the chat's ids and the user; the host adds what only exists
after the inlets (`model_id`, `tools`, `sources`, ... : `after_inlets`).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tuichat.compat.open_webui.utils.misc import merge_system_messages, strip_empty_content_blocks
from tuichat.runtime.invocation.request import template_variables

# Params Open WebUI's `apply_model_params_to_body_openai` copies from `params` into the body
# (utils/payload.py); the others stay in `__metadata__["params"]` only.
BODY_PARAMS = (
    "temperature", "top_p", "min_p", "max_tokens", "frequency_penalty", "presence_penalty",
    "reasoning_effort", "seed", "stop", "logit_bias", "response_format",
)  # fmt: skip
DEFAULT_PARAMS: dict[str, Any] = {
    "compact_token_threshold": None,
    "function_calling": "native",
    "reasoning_tags": None,
    "stream_delta_chunk_size": None,
    "tool_approval_mode": "full",
}
FEATURES = {"code_interpreter": False, "image_generation": False, "voice": False, "web_search": False}
# Keys Open WebUI adds to the metadata only after the inlets (they do not see them).
AFTER_INLET_KEYS = ("model_id", "tools", "skill_ids", "terminal_id", "sources", "base_system_prompt", "base_user_prompt")
# What the pipe's body never carries (popped by Open WebUI before the call).
NOT_FOR_PIPE = ("metadata", "features", "tool_ids", "files", "params", "variables")


def parse_param(text: str) -> tuple[str, Any]:
    """`KEY=VALUE` (`--param`): VALUE is JSON when it parses, else the string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--param {text!r}: write KEY=VALUE, e.g. --param temperature=0.2")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def chat_request(
    model_id: str,
    messages: list[dict[str, Any]],
    *,
    text: str,
    stream: bool,
    chat_id: str,
    message_id: str,
    user_message_id: str,
    session_id: str,
    user: dict[str, Any],
    filter_ids: list[str] | None = None,
    tool_ids: list[str] | None = None,
    params: dict[str, Any] | None = None,
    model_params: dict[str, Any] | None = None,
    files: list[dict[str, Any]] | None = None,
    user_files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The body the inlets get (`metadata` inside it): Open WebUI's form after
    `chat_completion` moved the page's fields into the metadata. `files`: the file items the
    page posts (`tuichat.runtime.attached`); `user_files`: the new message's attachments as
    its `files` (images as data URLs)."""
    chat_params = {**DEFAULT_PARAMS, **(model_params or {}), **(params or {}), "model_controls": {}}
    metadata: dict[str, Any] = {
        "user_id": user.get("id"),
        "chat_id": chat_id,
        "message_id": message_id,
        "assistant_message_id": None,
        "user_message_id": user_message_id,
        "regeneration_message_id": None,
        "session_id": session_id,
        "folder_id": None,
        "automation_id": None,
        "chat_context": None,
        "chat_variables": {},
        "filter_ids": list(filter_ids or []),
        "tool_ids": list(tool_ids or []),
        "tool_servers": [],
        "files": list(files) if files else None,
        "features": dict(FEATURES),
        "variables": template_variables(user),
        "params": chat_params,
        "direct": False,
        "internal": False,
        # Open WebUI's builtin tools (and with them the file context tool) are off in legacy mode.
        "include_file_context": chat_params.get("function_calling") != "legacy",
        "tool_approval_resume": None,
        "user_agent": "tuichat",
        "task_id": str(uuid.uuid4()),
        "user_message": {
            "id": user_message_id,
            "parentId": None,
            "childrenIds": [message_id],
            "role": "user",
            "content": text,
            "timestamp": int(time.time()),
            "models": [model_id],
        },  # fmt: skip
    }
    if user_files:
        metadata["user_message"]["files"] = list(user_files)
    body: dict[str, Any] = {
        "model": model_id,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        "stream": stream,
        "features": dict(FEATURES),
        "tool_ids": list(tool_ids or []),
        "metadata": metadata,
    }
    if files:
        body["files"] = [dict(f) for f in files]
    for key in BODY_PARAMS:
        if key in chat_params and chat_params[key] is not None:
            body[key] = chat_params[key]
    return body


def after_inlets(metadata: dict[str, Any], model_id: str, text: str) -> None:
    """What Open WebUI's `process_chat_payload` adds once the inlets ran."""
    metadata.setdefault("model_id", model_id)
    if (metadata.get("params") or {}).get("function_calling") != "legacy":
        metadata.setdefault("tools", {})  # no builtin tools, but the container stays (native mode)
    metadata.setdefault("skill_ids", [])
    metadata.setdefault("terminal_id", None)
    metadata.setdefault("sources", [])
    metadata.setdefault("base_system_prompt", None)
    metadata.setdefault("base_user_prompt", text)


def last_user_text(body: dict[str, Any], default: str) -> Any:
    """`base_user_prompt`: the last user message as the inlets left it (misc.py:
    get_last_user_message: its first text part when the content is a list)."""
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    return next((p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"), None)
                return content
    return default


def skip_files(body: Any, filters: list[Any]) -> None:
    """A `file_handler` filter handles the files itself: Open WebUI 0.12.4's
    `process_filter_functions` (utils/filter.py), after the inlets, takes `files` out of
    the body and its metadata when any filter that has an inlet has a truthy
    `file_handler` (so no query call, no retrieval and no template follow). The same code:
    a body an inlet replaced by None fails here, as there."""
    if not any(getattr(f.instance, "file_handler", None) for f in filters if f.has("inlet")):
        return
    if "files" in body.get("metadata", {}):
        del body["metadata"]["files"]
    if "files" in body:
        del body["files"]


def take_files(body: dict[str, Any]) -> Any:
    """`__metadata__["files"]` after the inlets: what the body's `files` is then, without
    duplicates (Open WebUI 0.12.4's `process_chat_payload`: `files = form_data.pop('files',
    None)`, deduplicated by content, then `metadata.update({'files': files, ...})`). So
    after a `file_handler` filter it is None, and the pipe's `__files__` is []."""
    files = body.pop("files", None)
    if files:
        files = list({json.dumps(f, sort_keys=True): f for f in files}.values())
    return files


def normalize_messages(body: Any) -> None:
    """Open WebUI 0.12.4's `normalize_messages_for_model` (utils/middleware.py), right after
    the request hooks: blank text parts dropped from list contents, and every system
    message merged into one, first. The same code, so a request hook that returned None
    fails here as there ("'NoneType' object has no attribute 'get'")."""
    body["messages"] = strip_empty_content_blocks(body.get("messages", []))
    body["messages"] = merge_system_messages(body.get("messages", []))


def prepend_text(message: dict[str, Any], text: str) -> dict[str, Any]:
    """`text` and a line break put before a message's text, in every text part of a list
    content (Open WebUI's `add_or_update_system_message` / `add_or_update_user_message`)."""
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                part["text"] = f"{text}\n{part.get('text', '')}"
    else:
        message["content"] = f"{text}\n{content}"
    return message
