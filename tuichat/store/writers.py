"""Which process writes a streaming reply, and whether that process is still alive.

A reply is stored with status 'streaming' before its pipe runs and saved as it streams. If
the process writing it dies (kill -9, a crash, a power cut), the row would stay 'streaming'
for ever; start-up marks such rows 'interrupted' instead. A row being written by a live
process (another `tuichat run`, another app) must not be touched, so each streaming row names
its writer: the pid, the process's start time (so a reused pid is not mistaken for it), the
boot id (so a pid from before a reboot is not either) and the host name (a database shared
by two machines: a process on the other one cannot be checked, so its rows are left alone).
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True, slots=True)
class Writer:
    pid: int
    start: str | None  # the process's start time in clock ticks after boot (Linux), else None
    boot: str | None  # the kernel's boot id (Linux), else None
    host: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> Writer | None:
        if not text:
            return None
        try:
            data: Any = json.loads(text)
            return cls(int(data["pid"]), data.get("start"), data.get("boot"), str(data.get("host", "")))
        except (ValueError, TypeError, KeyError):
            return None


@functools.cache
def this_process() -> Writer:
    pid = os.getpid()
    return Writer(pid, _start_time(pid), _read(_BOOT_ID), _host())


def is_gone(writer: Writer) -> bool:
    """Whether `writer` has certainly ended. False when it lives, or when that cannot be told
    (a process on another host)."""
    me = this_process()
    if writer.host != me.host:
        return False
    if writer.boot and me.boot and writer.boot != me.boot:
        return True  # written before this machine last started
    if writer.pid == me.pid:
        return writer.start != me.start
    if me.start is not None:  # /proc is there: a dead, zombie or reused pid differs
        return _start_time(writer.pid) != writer.start
    try:
        os.kill(writer.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat; None for no such process, a zombie, or no /proc."""
    stat = _read(Path(f"/proc/{pid}/stat"))
    if stat is None:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip() or None
    except OSError:
        return None


def _host() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()
