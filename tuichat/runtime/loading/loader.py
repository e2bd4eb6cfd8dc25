"""Loading a function's source into a module and an instance, as Open WebUI 0.12.4 does (spec §2).

Differences, both deliberate: the code is compiled under the name `<id>.py` with
its source registered in `linecache`, so tracebacks show the pipe's own lines;
and loading runs in a worker thread so a slow import never blocks the caller.
"""

from __future__ import annotations

import asyncio
import linecache
import os
import sys
import tempfile
import types
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tuichat.runtime.errors import FunctionLoadError, describe, error_position, pipe_traceback
from tuichat.runtime.loading.frontmatter import extract_frontmatter, replace_imports
from tuichat.runtime.threads import run_in_thread

# Open WebUI picks the first class present in this order; a `Tools` module is its tool store's
# (utils/plugin.py load_tool_module_by_id), kept here beside the functions.
_CLASS_TYPES = (("Pipe", "pipe"), ("Filter", "filter"), ("Action", "action"), ("Event", "event"), ("Tools", "tool"))


@dataclass
class LoadedFunction:
    id: str
    content: str  # the rewritten source this instance was built from
    instance: Any
    type: str
    frontmatter: dict[str, str]
    module: types.ModuleType
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)


def source_filename(function_id: str) -> str:
    return f"{function_id}.py"


def load_module(function_id: str, content: str) -> tuple[Any, str, dict[str, str], types.ModuleType]:
    """Exec `content` as module `function_<id>_<hex>` and instantiate its class (blocking)."""
    content = replace_imports(content)
    module_name = f"function_{function_id}_{uuid.uuid4().hex}"
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    filename = source_filename(function_id)
    # Open WebUI gives `__file__` a temp file that is deleted once loading ends.
    with tempfile.NamedTemporaryFile("w", delete=False, suffix=".py", encoding="utf-8") as temp:
        temp.write(content)
    try:
        module.__dict__["__file__"] = temp.name
        _register_source(filename, content)
        exec(compile(content, filename, "exec"), module.__dict__)
        frontmatter = extract_frontmatter(content)
        for class_name, function_type in _CLASS_TYPES:
            cls = getattr(module, class_name, None)
            if cls is not None:
                return cls(), function_type, frontmatter, module
        raise Exception("No Function class found in the module")
    finally:
        os.unlink(temp.name)
        sys.modules.pop(module_name, None)


def _register_source(filename: str, content: str) -> None:
    # mtime None marks the entry as not backed by a file, so checkcache keeps it.
    linecache.cache[filename] = (len(content), None, content.splitlines(True), filename)


def _install_module(function_id: str, module: types.ModuleType, previous: LoadedFunction | None) -> None:
    """Register the new module as Open WebUI's `set_function_module_in_cache` does."""
    if previous is not None:
        sys.modules.pop(previous.module.__name__, None)
    sys.modules[module.__name__] = module
    sys.modules[f"function_{function_id}"] = module


def load_error_message(function_id: str, exc: BaseException) -> str:
    return f"function '{function_id}' failed to load: {describe(exc)}"


def load_error(function_id: str, exc: BaseException) -> FunctionLoadError:
    """The error for a source that failed to compile or load, with where it failed."""
    line, column = error_position(exc, source_filename(function_id)) or (None, None)
    return FunctionLoadError(function_id, load_error_message(function_id, exc), pipe_traceback(exc), line=line, column=column)


async def load_function(function_id: str, content: str) -> LoadedFunction:
    """Load in a worker thread; failures become FunctionLoadError with the pipe's traceback."""
    try:
        instance, function_type, frontmatter, module = await run_in_thread(load_module, function_id, content)
    except Exception as exc:
        raise load_error(function_id, exc) from exc
    return LoadedFunction(function_id, replace_imports(content), instance, function_type, frontmatter, module)


class FunctionCache:
    """One instance per function and content: reused while the source is unchanged (spec §2.3)."""

    def __init__(self, on_load_failure: Callable[[str, FunctionLoadError], Awaitable[None]] | None = None) -> None:
        self._loaded: dict[str, LoadedFunction] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._on_load_failure = on_load_failure

    @property
    def instances(self) -> dict[str, Any]:
        """Like Open WebUI's `app.state.FUNCTIONS`."""
        return {fid: loaded.instance for fid, loaded in self._loaded.items()}

    def cached(self, function_id: str) -> LoadedFunction | None:
        return self._loaded.get(function_id)

    async def get(self, function_id: str, content: str) -> LoadedFunction:
        rewritten = replace_imports(content)
        current = self._loaded.get(function_id)
        if current is not None and current.content == rewritten:
            return current
        lock = self._locks.setdefault(function_id, asyncio.Lock())
        async with lock:
            current = self._loaded.get(function_id)
            if current is not None and current.content == rewritten:
                return current
            try:
                loaded = await load_function(function_id, content)
            except FunctionLoadError as error:
                if self._on_load_failure is not None:
                    await self._on_load_failure(function_id, error)
                raise
            _install_module(function_id, loaded.module, current)
            self._loaded[function_id] = loaded
            return loaded

    def put(self, loaded: LoadedFunction) -> None:
        """Serve an instance loaded elsewhere (a save that just loaded it), as Open WebUI
        keeps the instance its update built."""
        _install_module(loaded.id, loaded.module, self._loaded.get(loaded.id))
        self._loaded[loaded.id] = loaded

    def forget(self, function_id: str) -> None:
        loaded = self._loaded.pop(function_id, None)
        if loaded is not None:
            sys.modules.pop(loaded.module.__name__, None)
            if sys.modules.get(f"function_{function_id}") is loaded.module:
                del sys.modules[f"function_{function_id}"]
