"""Whether a copy (OSC 52, the only clipboard a terminal app has over SSH) can reach the
clipboard, and what to do when it cannot.

A terminal that ignores OSC 52 cannot be detected: the copy dialog says so and offers a file.
tmux can: by default (`set-clipboard external`) it drops what applications send, and says
nothing, so "copied" would be a lie there. Asking tmux takes a few milliseconds."""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass

TMUX_FIX = "tmux set -g set-clipboard on"


@dataclass(frozen=True)
class ClipboardPath:
    ok: bool  # as far as we can tell, a copy reaches the terminal
    note: str  # one sentence for the user: what happens, and what to do if it does not work


async def tmux_set_clipboard() -> str | None:
    """tmux's `set-clipboard` option when running inside tmux (None outside it, "" unknown)."""
    if not os.environ.get("TMUX"):
        return None
    with contextlib.suppress(OSError, asyncio.TimeoutError):
        process = await asyncio.create_subprocess_exec(
            "tmux", "show", "-gv", "set-clipboard",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(process.communicate(), 2)
        return out.decode(errors="replace").strip()
    return ""


def path_for(tmux_value: str | None) -> ClipboardPath:
    if tmux_value is None:
        return ClipboardPath(
            True,
            "Copies go to your terminal's clipboard (OSC 52). If nothing pastes, your terminal does "
            "not allow it: press w to write to a file instead.",
        )
    if tmux_value == "on":
        return ClipboardPath(True, "Copies go through tmux (set-clipboard on) to your terminal's clipboard.")
    shown = tmux_value or "unknown"
    return ClipboardPath(
        False,
        f"tmux drops copies from apps (set-clipboard {shown}). Enable them with `{TMUX_FIX}` "
        "(and that line in ~/.tmux.conf), or press w to write to a file.",
    )
