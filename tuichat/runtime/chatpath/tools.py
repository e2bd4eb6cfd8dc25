"""Tools on the chat path, as Open WebUI 0.12.4 hands them to a pipe (utils/tools.py `get_tools`,
utils/middleware.py `process_chat_payload`): each selected `class Tools` module loaded, its
`valves` set from the stored ones, and one `__tools__` entry per public method:
`{tool_id, callable, spec, metadata}`. The callable is async, takes the model's arguments,
and injects the tool's own `__user__` (with its UserValves), `__id__`, `__event_emitter__`,
... as Open WebUI's `get_async_tool_function_and_apply_extra_params` does. In native mode
(the default) the specs also go into `body["tools"]`.

A tool's events go out through the pipe's own emitter once the pipe runs (a tool is called
from inside the pipe), so they reach the reply in the order the pipe caused them, tagged with
the tool and function (`source`, as a filter hook's are) for the activity pane. Each callable
is wrapped by `ToolCalls`, which lists every call and names a tool that raises.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from tuichat.compat.open_webui.utils.tools import get_async_tool_function_and_apply_extra_params, get_tool_specs
from tuichat.runtime.chatpath.tool_calls import ToolCalls
from tuichat.store.functions import FunctionRow

# What loading a tool gives: its row, its `Tools` instance, the local user's saved UserValves.
LoadedTool = tuple[FunctionRow, Any, dict[str, Any]]
LoadTool = Callable[[str], Awaitable[LoadedTool | None]]
Emit = Callable[[Any], Awaitable[Any]]
Source = dict[str, Any]  # {"tool": ID, "function": NAME}: where an event came from


class PipeLink:
    """The pipe's emitter and event call, once the pipe exists: tools call through these.
    Each is made per tool function, so what it emits is tagged with it (`source`)."""

    def __init__(self, fallback_emit: Callable[[Source], Emit], fallback_call: Callable[[Source], Emit]) -> None:
        self._fallback_emit, self._fallback_call = fallback_emit, fallback_call
        self.pipe: Any = None  # the pipe's Invocation, once made

    def emitter(self, source: Source) -> Emit:
        async def __event_emitter__(event: Any) -> Any:
            emit = self.pipe.emitter_for_tools(source)[0] if self.pipe is not None else self._fallback_emit(source)
            return await emit(event)

        return __event_emitter__

    def caller(self, source: Source) -> Emit:
        async def __event_call__(event: Any) -> Any:
            call = self.pipe.emitter_for_tools(source)[1] if self.pipe is not None else self._fallback_call(source)
            return await call(event)

        return __event_call__


class ToolLoadFailed(Exception):
    """A selected tool could not be loaded or its valves did not validate: Open WebUI fails the turn."""


async def resolve_tools(
    tool_ids: list[str], load: LoadTool, extra_params: dict[str, Any], link: PipeLink, calls: ToolCalls
) -> dict[str, dict[str, Any]]:
    """`__tools__` for `tool_ids` (unknown ids are skipped, as Open WebUI skips them)."""
    tools: dict[str, dict[str, Any]] = {}
    for tool_id in tool_ids:
        loaded = await load(tool_id)
        if loaded is None:
            continue
        row, module, user_valves = loaded
        user = {**extra_params["__user__"]}
        try:
            if hasattr(module, "valves") and hasattr(module, "Valves"):
                module.valves = module.Valves(**(row.valves or {}))
            if hasattr(module, "UserValves"):
                user["valves"] = module.UserValves(**(user_valves or {}))
            specs = get_tool_specs(module)
        except Exception as exc:
            raise ToolLoadFailed(f"tool '{tool_id}': {type(exc).__name__}: {exc}") from exc
        for spec in specs:
            name = spec["name"]
            source = {"tool": tool_id, "function": name}
            talk = {"__event_emitter__": link.emitter(source), "__event_call__": link.caller(source)}
            entry = await _entry(tool_id, module, spec, {**extra_params, **talk, "__id__": tool_id, "__user__": user})
            entry["callable"] = calls.wrap(tool_id, name, entry["callable"])
            while name in tools:  # a name another tool has: prefixed with this tool's id
                name = f"{tool_id}_{name}"
            entry["spec"] = {**entry["spec"], "name": name}
            tools[name] = entry
    return tools


async def _entry(tool_id: str, module: Any, spec: dict[str, Any], extras: dict[str, Any]) -> dict[str, Any]:
    for value in spec.get("parameters", {}).get("properties", {}).values():
        if value.get("type") == "str":
            value["type"] = "string"
    properties = spec.get("parameters", {}).get("properties", {})
    spec["parameters"]["properties"] = {key: value for key, value in properties.items() if not key.startswith("__")}
    function = getattr(module, spec["name"])
    callable_ = await get_async_tool_function_and_apply_extra_params(function, extras)
    doc = callable_.__doc__
    # Open WebUI keeps the docstring's text before `:param`/`:return`, whitespace and all.
    spec["description"] = re.split(":(param|return)", doc, maxsplit=1)[0] if doc and doc.strip() else spec["name"]
    return {
        "tool_id": tool_id,
        "callable": callable_,
        "spec": spec,
        "metadata": {
            "file_handler": hasattr(module, "file_handler") and module.file_handler,
            "citation": hasattr(module, "citation") and module.citation,
        },
    }


def native_specs(tools: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """`body["tools"]` in native function calling."""
    return [{"type": "function", "function": tool.get("spec", {})} for tool in tools.values()]
