"""Giving freed heap back to the operating system (glibc's `malloc_trim`).

After a flood (a reply of megabytes, thousands of events) the app frees what the flood built,
but glibc keeps the freed pages in its arenas for reuse: in the soak (bench/soak.py) the app's
RSS rose by ~70 MB of such pages and stayed there, though the objects were gone. `malloc_trim(0)`
returns them. It walks the arenas (a few ms on a 200 MB heap, bench/memory_rounds.py), so it is
called at moments that already cost far more: a large reply ended, a chat was closed or
replaced; never per token. Elsewhere (macOS, musl, Windows) it is a no-op."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import time
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_loaded = False


def _load() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library is not glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        function = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    return function


def available() -> bool:
    """Whether trimming does anything here (glibc)."""
    global _trim, _loaded
    if not _loaded:
        _trim, _loaded = _load(), True
    return _trim is not None


def trim() -> float | None:
    """Return the heap's free pages to the system; the seconds it took, None where unavailable."""
    if not available():
        return None
    assert _trim is not None
    started = time.perf_counter()
    _trim(0)
    return time.perf_counter() - started
