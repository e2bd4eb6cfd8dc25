"""The app's side of a chat turn: the request (`request.chat_request`) and what the host
needs besides the pipe's row: the filters that may run (active, global or attached to the
model by its settings row) with the local user's valves, and the settings row itself."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from tuichat.runtime.chatpath.filters import candidate_rows
from tuichat.runtime.chatpath.request import chat_request
from tuichat.store import Store


async def chat_setup(
    store: Store,
    model_id: str,
    *,
    text: str,
    outlet_messages: list[dict[str, Any]],
    file_texts: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """`file_texts`: the attached files' stored text by file id ({name, text}), which the host
    turns into sources (Bypass Embedding and Retrieval)."""
    settings = await store.model_settings.get(model_id)
    attached = settings.filter_ids if settings is not None else []
    rows = candidate_rows(await store.functions.list(type="filter"), attached)
    local = await store.users.local()
    filters = [
        {"row": dataclasses.asdict(row), "user_valves": await store.functions.get_user_valves(row.id, local["id"])}
        for row in rows
    ]
    tools = [
        {"row": dataclasses.asdict(row), "user_valves": await store.functions.get_user_valves(row.id, local["id"])}
        for row in await store.functions.list(type="tool")
        if row.is_active
    ]
    return {
        "filters": filters,
        "tools": tools,
        "model_row": settings.to_json() if settings is not None else None,
        "outlet_messages": outlet_messages,
        "text": text,
        "file_texts": dict(file_texts or {}),
    }


async def build_chat_body(
    store: Store,
    model_id: str,
    messages: list[dict[str, Any]],
    *,
    text: str,
    stream: bool,
    chat_id: str | None,
    message_id: str | None,
    user_message_id: str | None,
    session_id: str,
    user: dict[str, Any],
    filter_ids: list[str],
    params: dict[str, Any],
    extra_metadata: dict[str, Any],
    tool_ids: list[str] | None = None,
    files: list[dict[str, Any]] | None = None,
    user_files: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The body of the request (with `metadata`), ids made where none is stored. The tools
    attached to the model (`meta.toolIds`) are selected with the ones asked for, as the web
    page preselects them."""
    settings = await store.model_settings.get(model_id)
    tool_ids = list(dict.fromkeys([*(settings.tool_ids if settings is not None else []), *(tool_ids or [])]))
    body = chat_request(
        model_id, messages, text=text, stream=stream, chat_id=chat_id or str(uuid.uuid4()),
        message_id=message_id or str(uuid.uuid4()), user_message_id=user_message_id or str(uuid.uuid4()),
        session_id=session_id, user=user, filter_ids=filter_ids, tool_ids=tool_ids, params=params,
        model_params=settings.params if settings is not None else None, files=files, user_files=user_files,
    )  # fmt: skip
    body["metadata"].update(extra_metadata)
    return body
