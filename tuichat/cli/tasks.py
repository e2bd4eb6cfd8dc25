"""`tuichat tasks [NAME on|off]`: which of Open WebUI's background tasks run after a reply."""

from __future__ import annotations

import argparse

from tuichat.cli.commands import UsageError
from tuichat.cli.output import table
from tuichat.runtime.background.settings import NAMES, all_enabled, set_enabled
from tuichat.store import Store

WHAT = {
    "title": "a new chat's title, from its first exchange",
    "tags": "a new chat's tags, from its first exchange",
    "follow-ups": "suggested next messages, after every reply",
}


async def tasks_command(args: argparse.Namespace, store: Store) -> int:
    if args.task is not None and args.state is None:
        raise UsageError(f"say on or off: `tuichat tasks {args.task} on`")
    if args.task is not None:
        await set_enabled(store, NAMES[args.task], args.state == "on")
    states = await all_enabled(store)
    table(("TASK", "STATE", "WHAT"), [(name, "on" if on else "off", WHAT[name]) for name, on in states.items()])
    return 0
