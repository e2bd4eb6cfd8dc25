"""`tuichat tools ...`: Open WebUI's tool store (`class Tools` modules). Tools are kept with the
functions (type 'tool': versioned, linked, edited and given valves the same way), so each
command is the `pipes` command of the same name, held to tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from tuichat.cli.commands import UsageError
from tuichat.cli.output import dump_json, table
from tuichat.cli.pipes import PIPE_ACTIONS, pipes_add, read_file
from tuichat.runtime.function_source import guess_type
from tuichat.runtime.library import FunctionLibrary, decode_source
from tuichat.runtime.reply.present import first_line


async def tools_add(args: argparse.Namespace, library: FunctionLibrary) -> int:
    _require_tool_file(Path(args.file), "add")
    args.install_missing, args.yes = getattr(args, "install_missing", False), getattr(args, "yes", False)
    return await pipes_add(args, library)


async def tools_new(args: argparse.Namespace, library: FunctionLibrary) -> int:
    args.template = "tool"
    return await PIPE_ACTIONS["new"](args, library)


async def tools_file(args: argparse.Namespace, library: FunctionLibrary) -> int:
    """link, watch: the pipes command, for a file that holds a `class Tools` (an id already
    stored must be a tool too)."""
    _require_tool_file(Path(args.file), args.action)
    if args.id and (row := await library.store.functions.get(args.id)) is not None and row.type != "tool":
        raise UsageError(f"'{row.id}' is a {row.type}, not a tool: use `tuichat pipes {args.action} {args.file} --id {row.id}`")
    return await PIPE_ACTIONS[args.action](args, library)


def _require_tool_file(path: Path, action: str) -> None:
    kind = _kind(decode_source(read_file(path), str(path)))
    if kind != "tool":
        raise UsageError(f"{path} defines no `class Tools` (it reads as a {kind}): use `tuichat pipes {action} {path}`")


async def tools_list(args: argparse.Namespace, library: FunctionLibrary) -> int:
    rows = await library.store.functions.list(type="tool")
    if args.json:
        print(dump_json([{"id": r.id, "name": r.name, "active": r.is_active, "meta": r.meta, "load_error": r.load_error}
                         for r in rows], indent=2))  # fmt: skip
        return 0
    table(("ID", "ACTIVE", "NAME", "DESCRIPTION", "ERROR"),
          [(r.id, "yes" if r.is_active else "no", r.name, first_line(r.meta.get("description"), 40), first_line(r.load_error, 40))
           for r in rows])  # fmt: skip
    return 0


async def tools_other(args: argparse.Namespace, library: FunctionLibrary) -> int:
    """show, rm, valves, user-valves, enable, disable, export, duplicate, versions, restore,
    unlink: the pipes command, on a tool only."""
    row = await library.get(args.id)
    if row.type != "tool":
        raise UsageError(f"'{row.id}' is a {row.type}, not a tool: use `tuichat pipes {args.action} {row.id}`")
    return await PIPE_ACTIONS[args.action](args, library)


def _kind(content: str) -> str:
    try:
        return guess_type(content)
    except SyntaxError:
        return "tool"  # the load reports the syntax error with its line


TOOL_ACTIONS = {"add": tools_add, "list": tools_list, "new": tools_new, "link": tools_file, "watch": tools_file}
