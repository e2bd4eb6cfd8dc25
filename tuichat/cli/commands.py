"""The CLI's commands: one store and runtime per command, then the command's own module.

    pipes.py   `tuichat pipes ...`: stored functions, their valves, versions and linked files
    models.py  `tuichat models`
    chats.py   `tuichat chats ...`
    run.py     `tuichat run`

Each is imported only when its command runs. What they share is here: the usage error
(exit status 2), JSON options, and how times and pip's output are printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from tuichat.runtime.hostproc.host_log import HostLine
from tuichat.runtime.library import InstallPolicy
from tuichat.runtime.services import Services
from tuichat.store import Store, default_db_path


class UsageError(Exception):
    """The command was wrong: exit status 2."""


def parse_json(text: str, option: str, *, want: type | None = None) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): {text!r}") from None
    if want is dict and not isinstance(value, dict):
        raise UsageError(f'{option} must be a JSON object like {{"KEY": "value"}}, not {text!r}')
    return value


async def dispatch(args: argparse.Namespace) -> int:
    """Open the store, start the runtime on it (as the app does), run the command, close."""
    path = Path(args.db) if args.db else default_db_path()
    store = await Store.open(path)
    if store.exposure:
        print(f"tuichat: warning: {store.exposure}", file=sys.stderr, flush=True)
    services: Services | None = None
    try:
        services = await Services.start(store)
        if args.command != "run":  # `run` says them between its own lines on stderr
            services.host.log.listen(say_host_line)
        if args.command == "run":
            from tuichat.cli.run import run_command

            return await run_command(args, services.host)
        if args.command == "models" and getattr(args, "action", None):
            from tuichat.cli.model_settings import MODEL_ACTIONS

            return await MODEL_ACTIONS[args.action](args, store)
        if args.command == "models":
            from tuichat.cli.models import models_command

            return await models_command(args, services.host)
        if args.command == "tools":
            from tuichat.cli.tools import TOOL_ACTIONS, tools_other

            return await TOOL_ACTIONS.get(args.action, tools_other)(args, services.library)
        if args.command == "tasks":
            from tuichat.cli.tasks import tasks_command

            return await tasks_command(args, store)
        if args.command == "chats":
            from tuichat.cli.chats import CHAT_ACTIONS

            return await CHAT_ACTIONS[args.action](args, store)
        from tuichat.cli.pipes import PIPE_ACTIONS

        return await PIPE_ACTIONS[args.action](args, services.library)
    finally:
        if services is not None:
            await services.close()
        await store.close()


def say_host_line(line: HostLine) -> None:
    """Output of the pipe host that no call claimed (a module's import, a stray thread): on
    stderr as it comes, marked, never on stdout (each tuichat process has its own host, so
    there is no host log to read back later)."""
    print(f"[host] {line.text}", file=sys.stderr, flush=True)


async def resolve_chat(store: Store, given: str) -> str:
    """The id of the chat `given` names: its whole id, or a prefix only one chat's id starts with
    (ids are UUIDs, so a few characters usually suffice, as with git's commit hashes)."""
    if await store.chats.get(given) is not None:
        return given
    matches = await store.chats.with_prefix(given, limit=11) if given else []
    if len(matches) == 1:
        return matches[0].id
    if not matches:
        raise UsageError(f"no chat '{given}' is stored. Run `tuichat chats list` to see them.")
    listed = "".join(f"\n  {c.id}  {c.title}" for c in matches[:10])
    more = "\n  …" if len(matches) > 10 else ""
    raise UsageError(f"'{given}' is the start of several chat ids; give more of it:{listed}{more}")


def install_policy(args: argparse.Namespace) -> InstallPolicy:
    """pip's output goes to stderr as it arrives, so a long install is visibly alive."""
    return InstallPolicy(
        install_missing=getattr(args, "install_missing", False),
        offline=bool(getattr(args, "offline", False)),
        on_line=lambda line: print(f"  pip: {line}", file=sys.stderr, flush=True),
        assume_yes=bool(getattr(args, "yes", False)),
    )


def when(epoch: float | int | None) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M") if epoch else ""
