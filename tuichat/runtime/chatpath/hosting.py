"""The host process's side of a chat turn: the rows the app sent, loaded into filters, the
model-list entry (`__model__`), and the pipe call the turn makes (`PipeEngine.invocation_for`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuichat import compat
from tuichat.runtime.chatpath.filters import Filter, toggle_entries
from tuichat.runtime.chatpath.model_system import apply_model_system
from tuichat.runtime.chatpath.run import ChatInvocation
from tuichat.runtime.chatpath.tools import LoadedTool, ToolLoadFailed
from tuichat.runtime.errors import FunctionLoadError
from tuichat.runtime.invocation.invoke import EventCallHandler, Invocation
from tuichat.store.functions import FunctionRow

if TYPE_CHECKING:
    from tuichat.runtime.engine import PipeEngine


def chat_invocation(
    engine: PipeEngine,
    row: FunctionRow,
    model_id: str,
    body: dict[str, Any],
    chat: dict[str, Any],
    *,
    user: dict[str, Any],
    user_valves: dict[str, Any],
    event_call: EventCallHandler | None,
) -> ChatInvocation:
    """`chat`: {"filters": [{"row": {...}, "user_valves": {...}}], "model_row": {...} | None,
    "outlet_messages": [...], "text": str} (see `tuichat.runtime.chatpath.client`)."""

    async def setup() -> tuple[list[Filter], dict[str, Any]]:
        compat.bind(engine._compat)  # this task runs function code: the stand-ins serve this host
        filters: list[Filter] = []
        for item in chat.get("filters", []):
            filter_row = FunctionRow(**item["row"])
            try:
                loaded = await engine.load(filter_row)
            except FunctionLoadError:
                continue  # deactivated with its error (Open WebUI skips a filter it cannot load)
            filters.append(Filter(filter_row, loaded.instance, item.get("user_valves") or {}))
        return filters, await model_entry(engine, row, model_id, filters, chat.get("model_row"))

    tool_items = {item["row"]["id"]: item for item in chat.get("tools", [])}

    async def load_tool(tool_id: str) -> LoadedTool | None:
        item = tool_items.get(tool_id)
        if item is None:
            return None
        tool_row = FunctionRow(**item["row"])
        try:
            loaded = await engine.load(tool_row)
        except FunctionLoadError as error:
            raise ToolLoadFailed(str(error)) from error
        return tool_row, loaded.instance, item.get("user_valves") or {}

    def make_pipe(pipe_body: dict[str, Any], metadata: dict[str, Any]) -> Invocation:
        apply_model_system(pipe_body, chat.get("model_row"), metadata)
        return engine.invocation_for(
            row, model_id, pipe_body, metadata=metadata, user=user, user_valves=user_valves, event_call=event_call
        )

    def make_task(task_body: dict[str, Any], metadata: dict[str, Any]) -> Invocation:
        """A task call the chat path makes (query generation): the same pipe, no filters."""
        return engine.invocation_for(
            row, model_id, task_body, metadata=metadata, user=user, user_valves=user_valves, event_call=None
        )

    return ChatInvocation(
        setup=setup, body=body, user=user, outlet_messages=list(chat.get("outlet_messages") or []),
        text=str(chat.get("text") or ""), make_pipe=make_pipe, app=lambda: engine.app, event_call=event_call,
        load_tool=load_tool, make_task=make_task, file_texts=chat.get("file_texts") or {},
    )  # fmt: skip


async def model_entry(
    engine: PipeEngine, row: FunctionRow, model_id: str, filters: list[Filter], model_row: dict[str, Any] | None
) -> dict[str, Any]:
    """The model-list entry Open WebUI passes as `__model__` (and `metadata["model"]`)."""
    listed = await engine.models_of(row)
    entry = next((dict(m) for m in listed.models if m.get("id") == model_id), None)
    if entry is None:
        entry = {"id": model_id, "name": row.name, "object": "model", "created": row.created_at, "owned_by": "openai",
                 "pipe": {"type": "pipe"}, "has_user_valves": False}  # fmt: skip
    entry["actions"] = []
    entry["filters"] = toggle_entries(filters)
    if model_row is not None:
        entry["info"] = model_row
    return entry
