"""Calling one filter hook as Open WebUI 0.12.4's `process_filter_function` (utils/filter.py)
does: `self.valves`
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
    """The extras `f.<hook>` declares (of those offered to the hook, and `__id__`), and
    whether it is a coroutine function (Open WebUI awaits only those)."""
    cached = f.plans.get(hook)
    if cached is None:
        handler = getattr(f.instance, hook)
        declared = inspect.signature(handler).parameters
        extras = tuple(name for name in (*EXTRAS[hook], "__id__") if name in declared)
        cached = f.plans[hook] = (extras, inspect.iscoroutinefunction(handler))
    return cached


async def call_hook(f: Filter, hook: str, first: Any, offered: dict[str, Any]) -> Any:
    """`f.<hook>(body=first, **declared extras)` (`event=` for stream), as Open WebUI's
    `process_filter_function` calls it; what it raises propagates."""
    handler = getattr(f.instance, hook)
    f.set_valves()
    extras, is_coroutine = plan(f, hook)
    kwargs = {name: offered[name] for name in extras if name in offered}
    if "__id__" in extras:
        kwargs["__id__"] = f.id
    if "__user__" in kwargs and hasattr(f.instance, "UserValves") and isinstance(kwargs["__user__"], dict):
        kwargs["__user__"]["valves"] = user_valves_instance(f.instance, f.user_valves)
    kwargs["event" if hook == "stream" else "body"] = first
    if is_coroutine:
        return await handler(**kwargs)
    return handler(**kwargs)
