"""Calling one filter hook as Open WebUI's `process_filter_functions` does: `self.valves`
set first, only the parameters the hook declares passed, `__user__["valves"]` set on the
stage's shared `__user__` dict for a filter that has UserValves (so a later filter without
UserValves still sees it: the recordings show that leak, and we keep it)."""

from __future__ import annotations

import inspect
from typing import Any

from tuichat.runtime.chatpath.filters import Filter
from tuichat.runtime.valves import user_valves_instance

# The extras each hook is offered (a hook gets those among them it declares).
INLET_EXTRAS = (
    "__event_emitter__", "__event_call__", "__user__", "__metadata__", "__model__", "__id__",
    "__request__", "__chat_id__", "__message_id__", "__oauth_token__",
)  # fmt: skip
STREAM_EXTRAS = (*INLET_EXTRAS, "__body__")
OUTLET_EXTRAS = ("__event_emitter__", "__event_call__", "__user__", "__metadata__", "__model__", "__id__", "__request__")
EXTRAS = {"inlet": INLET_EXTRAS, "request": INLET_EXTRAS, "stream": STREAM_EXTRAS, "outlet": OUTLET_EXTRAS}


def plan(f: Filter, hook: str) -> tuple[tuple[str, ...], bool]:
    """The extras `f.<hook>` declares (of those offered to the hook), and whether its first
    parameter takes the body (a hook of dunders only gets none)."""
    cached = f.plans.get(hook)
    if cached is None:
        declared = inspect.signature(getattr(f.instance, hook)).parameters
        first = next(iter(declared), None)
        extras = tuple(name for name in (*EXTRAS[hook], "__id__") if name in declared)
        cached = f.plans[hook] = (extras, first is not None and first not in EXTRAS[hook] and first != "__id__")
    return cached


async def call_hook(f: Filter, hook: str, first: Any, offered: dict[str, Any]) -> Any:
    """Run `f.<hook>(first, **declared extras)`; what it raises propagates."""
    handler = getattr(f.instance, hook)
    f.set_valves()
    extras, positional = plan(f, hook)
    kwargs = {name: offered[name] for name in extras if name in offered}
    if "__id__" in extras:
        kwargs["__id__"] = f.id
    if "__user__" in kwargs and hasattr(f.instance, "UserValves") and isinstance(kwargs["__user__"], dict):
        kwargs["__user__"]["valves"] = user_valves_instance(f.instance, f.user_valves)
    result = handler(first, **kwargs) if positional else handler(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result
