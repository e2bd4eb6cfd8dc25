"""The calls a pipe makes to its `__tools__` callables, seen from the chat path: each one is
listed in the reply's activity under the tool and function it ran (`[tool weather
get_weather] called (city='Paris') in 2 ms → 'Sunny'`), one that raises is listed as an error
naming them (and still raises into the pipe, which decides, as in Open WebUI, whether the turn
goes on), and the calls running now are known, so a stopped turn says which tool it stopped.

Open WebUI's middleware runs the tools itself and catches their errors; an agentic pipe calls
them from its own code, so this wrapper is the only place that sees every call."""

from __future__ import annotations

import asyncio
import functools
import itertools
import time
from collections.abc import Callable
from typing import Any

from tuichat.runtime.errors import pipe_traceback

SHOWN = 160  # characters of arguments or a result an activity line keeps

Report = Callable[[dict[str, Any]], None]


class ToolCalls:
    """Wraps a turn's tool callables; `report` gets one activity record per call."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._running: dict[int, tuple[str, str, float]] = {}
        self._keys = itertools.count()

    def wrap(self, tool_id: str, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)  # the signature and docstring stay the tool's: pipes read them
        async def call(*args: Any, **kwargs: Any) -> Any:
            key = next(self._keys)
            began = time.monotonic()
            self._running[key] = (tool_id, name, began)
            record: dict[str, Any] = {"tool": tool_id, "function": name, "arguments": shown_arguments(args, kwargs)}
            try:
                result = await function(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The line's tag names the tool and function; the traceback is the tool's own.
                self._report({**record, "error": f"raised {type(exc).__name__}: {exc}", "traceback": pipe_traceback(exc)})
                raise
            finally:
                self._running.pop(key, None)
            self._report({**record, "ms": round((time.monotonic() - began) * 1000, 3), "result": shorten(repr(result))})
            return result

        call.unlisted = function  # type: ignore[attr-defined]  # for a caller that lists its calls itself
        return call

    def running(self) -> dict[str, Any] | None:
        """The longest-running call now, `{"tool", "function", "seconds"}`, else None."""
        if not self._running:
            return None
        tool_id, name, began = min(self._running.values(), key=lambda call: call[2])
        return {"tool": tool_id, "function": name, "seconds": round(time.monotonic() - began, 3)}


def shown_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return shorten(", ".join(parts))


def shorten(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"
