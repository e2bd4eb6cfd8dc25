"""The model list Open WebUI builds from pipe functions (spec §4.1)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tuichat.runtime.errors import describe, pipe_traceback
from tuichat.runtime.reply.present import pipe_id_of
from tuichat.runtime.threads import run_in_thread

__all__ = ["FunctionModels", "evaluate_pipes", "function_models", "model_dict", "pipe_id_of"]  # pipe_id_of: one, in present


@dataclass
class FunctionModels:
    """The models one function exposes, and the error that cut the list short, if any."""

    function_id: str
    models: list[dict[str, Any]]
    error: str | None = None
    traceback: str | None = None


def model_dict(model_id: str, name: str, created_at: int, function_type: str, has_user_valves: bool) -> dict[str, Any]:
    return {
        "id": model_id,
        "name": name,
        "object": "model",
        "created": created_at,
        "owned_by": "openai",
        "pipe": {"type": function_type},
        "has_user_valves": has_user_valves,
    }


async def evaluate_pipes(instance: Any) -> Any:
    """`pipes` may be a list, a sync callable (run in a thread) or an async callable."""
    pipes = instance.pipes
    if asyncio.iscoroutinefunction(pipes):
        return await pipes()
    if callable(pipes):
        return await run_in_thread(pipes)
    return pipes


async def function_models(
    function_id: str, name: str, function_type: str, created_at: int, instance: Any
) -> FunctionModels:
    has_user_valves = hasattr(instance, "UserValves")
    if not hasattr(instance, "pipes"):
        return FunctionModels(function_id, [model_dict(function_id, name, created_at, function_type, has_user_valves)])
    models: list[dict[str, Any]] = []
    try:
        for sub in await evaluate_pipes(instance):
            # Direct concatenation, no separator: authors write prefixes like "Anthropic/".
            sub_name = f"{instance.name}{sub['name']}" if hasattr(instance, "name") else sub["name"]
            models.append(model_dict(f"{function_id}.{sub['id']}", sub_name, created_at, function_type, has_user_valves))
    except asyncio.CancelledError:
        raise
    except BaseException as exc:  # SystemExit from pipes() must not end the app either
        # Entries made before the failure stay, as in Open WebUI.
        return FunctionModels(function_id, models, f"pipes failed: {describe(exc)}", pipe_traceback(exc))
    return FunctionModels(function_id, models)

