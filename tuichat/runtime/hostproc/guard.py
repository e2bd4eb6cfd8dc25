"""What the host process sets up before any pipe runs: it dies with the app and has a
memory ceiling, so neither a killed app nor a runaway pipe leaves a problem behind."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
MEMORY_ENV = "TUICHAT_HOST_MEMORY"  # the host's memory limit: bytes, "512M", "4G", or "0" for none


def die_with_parent(parent_pid: int) -> None:
    """Linux: the kernel kills this process when the app dies, even by SIGKILL.
    Elsewhere the host exits when its connection closes (see __main__)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the app died before the request took effect
        os._exit(1)


def limit_memory(limit: int) -> None:
    """Cap the address space: a runaway allocation becomes a MemoryError in the pipe
    instead of the machine swapping or the OOM killer choosing a victim."""
    if limit <= 0:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass
