"""`tuichat pipes ...`: stored functions, added, shown, exported, switched, versioned and linked."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuichat.cli.commands import UsageError, install_policy, when
from tuichat.cli.output import dump_json, table, verbatim
from tuichat.runtime.errors import FunctionLoadError
from tuichat.runtime.function_valves import read_function_valves
from tuichat.runtime.importing import ImportRefused
from tuichat.runtime.library import FunctionLibrary, NewFunction, decode_source
from tuichat.runtime.reply.present import first_line, pipe_id_of
from tuichat.runtime.transfer import TransferError, read_functions_export
from tuichat.runtime.transfer import parse_json as parse_json_text
from tuichat.runtime.watch import FileWatch, WatchReport, link_file

if TYPE_CHECKING:
    from tuichat.runtime.host import ModelListing


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


async def pipes_add(args: argparse.Namespace, library: FunctionLibrary) -> int:
    path = Path(args.file)
    content = decode_source(read_file(path), str(path))
    try:
        added = await library.add(
            content, function_id=args.id, name=args.name, stem=path.stem, replace=args.replace,
            policy=install_policy(args), source=str(path),
        )
    except FunctionLoadError as error:
        stop = "" if str(error).endswith(".") else "."
        raise FunctionLoadError(error.function_id, f"{path}: {error}{stop} Nothing was stored.", error.detail) from error
    return await report_added(added, library)


async def report_added(added: NewFunction, library: FunctionLibrary, listed: Listed | None = None) -> int:
    """Say what was stored, and the models a pipe offers now (from `listed`, else listed now)."""
    row = added.row
    print(f"{'updated' if added.replaced else 'added'} {row.type} '{row.id}' ({row.name})")
    if added.installed:
        print("installed: " + ", ".join(added.installed))
    if added.problem is not None:
        print(f"tuichat: '{row.id}' is stored but disabled: {added.problem}", file=sys.stderr)
        print(f"tuichat: once that is fixed, run `tuichat pipes enable {row.id}`", file=sys.stderr)
        return 1
    if added.warning is not None:
        print(f"tuichat: warning: {added.warning}", file=sys.stderr)
    if row.type == "pipe":
        if listed is not None:  # an import: one listing for every function it stored
            models, error = listed.models.get(row.id, []), listed.errors.get(row.id)
        else:  # this function alone: no other pipe is loaded
            alone = await library.host.models_of(row.id)
            models, error = [m["id"] for m in alone.models], alone.error
        print("models: " + (", ".join(models) if models else "none"))
        if error:
            print(f"tuichat: warning: {error}", file=sys.stderr)
    return 0


class Listed:
    """A model listing by pipe, worked out once (an import reports thousands of functions)."""

    def __init__(self, listing: ModelListing) -> None:
        self.models: dict[str, list[str]] = {}
        for model in listing.models:
            self.models.setdefault(pipe_id_of(model["id"]), []).append(model["id"])
        self.errors = listing.errors


async def pipes_import(args: argparse.Namespace, library: FunctionLibrary) -> int:
    """All or nothing: a file with any bad item stores nothing, and every problem is listed."""
    path = Path(args.file)
    functions = read_functions_export(path)
    try:
        summary = await library.import_all(
            functions, existing="replace" if args.replace else "refuse", policy=install_policy(args), where=str(path)
        )
    except ImportRefused as refused:
        print(f"tuichat: {refused}", file=sys.stderr)
        return 1
    pipes_on = any(a.row.type == "pipe" and a.problem is None for a in summary.added)
    listed = Listed(await library.host.list_models()) if pipes_on else None  # once, not once a function
    failed = 0
    for added in summary.added:
        failed += await report_added(added, library, listed)
    replaced = sum(added.replaced for added in summary.added)
    print(
        f"imported {len(summary.added)} of {len(functions)} function{'s' if len(functions) != 1 else ''} from {path} "
        f"({len(summary.added) - replaced} added, {replaced} updated"
        + (f", {len(summary.off)} switched off" if summary.off else "") + ")"
    )
    return 1 if failed else 0


async def pipes_list(args: argparse.Namespace, library: FunctionLibrary) -> int:
    rows = await library.store.functions.list()
    if args.json:
        print(dump_json([_function_json(r) for r in rows], indent=2))
        return 0
    table(
        ("ID", "TYPE", "ACTIVE", "NAME", "VERSION", "ERROR"),
        [(r.id, r.type, "yes" if r.is_active else "no", r.name, r.meta.get("manifest", {}).get("version", ""), first_line(r.load_error, 50)) for r in rows],
    )
    return 0


async def pipes_show(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row = await library.get(args.id)
    info = _function_json(row)
    listing = await library.host.list_models() if row.type == "pipe" and row.is_active else None
    if listing is not None:
        info["models"] = [m for m in listing.models if pipe_id_of(m["id"]) == row.id]
        row = await library.get(args.id)
        info["load_error"] = row.load_error or listing.errors.get(row.id)
    if args.json:
        print(dump_json(info, indent=2))
        return 0
    manifest = row.meta.get("manifest") or {}
    for label, value in (
        ("id", row.id), ("name", row.name), ("type", row.type), ("active", "yes" if row.is_active else "no"),
        ("global", "yes" if row.is_global else "no"), ("created", when(row.created_at)), ("updated", when(row.updated_at)),
    ):
        print(f"{label + ':':10} {value}")
    for key, value in manifest.items():
        print(f"{key + ':':10} {value}")
    print(f"{'valves:':10} {dump_json(row.valves)}")
    if "models" in info:
        print(f"{'models:':10} " + (", ".join(m["id"] for m in info["models"]) or "none"))
    if info.get("load_error") or row.load_error:
        print(f"\nerror:\n{info.get('load_error') or row.load_error}")
    return 0


async def pipes_export(args: argparse.Namespace, library: FunctionLibrary) -> int:
    if args.all == (args.id is not None):
        raise UsageError("give a function id to print its source, or --all for the export JSON")
    if args.all:
        print(dump_json(await library.export_all(), indent=2))
        return 0
    row = await library.get(args.id)
    # Redirected, the source is a file to keep: its exact text. On a terminal, it is shown.
    out = sys.stdout if sys.stdout.isatty() else verbatim(sys.stdout)
    out.write(row.content if row.content.endswith("\n") else row.content + "\n")
    return 0


async def pipes_rm(args: argparse.Namespace, library: FunctionLibrary) -> int:
    await library.remove(args.id)
    print(f"removed '{args.id}'")
    return 0


async def pipes_enable(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row = await library.enable(args.id, install_policy(args))
    print(f"enabled '{row.id}'")
    return 0


async def pipes_disable(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row = await library.disable(args.id)
    print(f"disabled '{row.id}'")
    return 0


async def pipes_global(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row = await library.set_global(args.id, args.state == "on")
    print(f"'{row.id}' is {'global' if row.is_global else 'not global'}")
    return 0


async def pipes_valves(args: argparse.Namespace, library: FunctionLibrary) -> int:
    user_valves = args.action == "user-valves"
    user_id = (await library.store.users.local())["id"] if user_valves else None
    if args.set is not None or args.reset:
        values = _valves_json(args.set) if args.set is not None else {}
        stored = await library.set_valves(args.id, values, user_id=user_id, merge=not args.reset)
        print(f"stored: {dump_json(stored)}")
        return 0
    valves = await read_function_valves(library, args.id, user_id=user_id)  # what the valves form shows
    if args.json:
        print(dump_json(valves.stored, indent=2))
        return 0
    table(
        ("FIELD", "TYPE", "VALUE", "DEFAULT", "DESCRIPTION"),
        [(f.name, f.type_name, dump_json(f.value) + (" (set)" if f.is_set else ""), dump_json(f.default), f.description)
         for f in valves.fields],
    )  # fmt: skip
    return 0


def _valves_json(text: str) -> dict[str, Any]:
    """`--set`'s JSON object. NaN and Infinity are read here and refused by the valves check,
    which names the field; nesting too deep for the parser is a usage error, not a traceback."""
    try:
        value = parse_json_text(text, "--set")
    except TransferError as error:
        raise UsageError(f"{error}: {text[:60]!r}{'...' if len(text) > 60 else ''}") from None
    if not isinstance(value, dict):
        raise UsageError(f'--set must be a JSON object like {{"KEY": "value"}}, not {text!r}')
    return value


async def pipes_new(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row = await library.create(args.id, template=args.template, name=args.name)
    print(f"created {row.type} '{row.id}' ({row.name}) from the {args.template} template")
    return 0


async def pipes_duplicate(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row = await library.duplicate(args.id, args.new_id)
    print(f"copied '{args.id}' to '{row.id}' ({row.name})")
    return 0


async def pipes_versions(args: argparse.Namespace, library: FunctionLibrary) -> int:
    versions = await library.versions(args.id)
    if args.json:
        print(dump_json([{"version": v.number, "origin": v.origin, "error": v.error, "created_at": v.created_at,
                          "lines": v.content.count("\n") + 1} for v in versions], indent=2))
        return 0
    current = (await library.get(args.id)).content
    table(
        ("VERSION", "SAVED", "ORIGIN", "LINES", "STATE"),
        [(str(v.number), when(v.created_at), v.origin, str(v.content.count("\n") + 1),
          "current" if v.content == current and not v.error else first_line(f"refused: {v.error}", 60) if v.error else "")
         for v in versions],
    )
    return 0


async def pipes_restore(args: argparse.Namespace, library: FunctionLibrary) -> int:
    saved = await library.restore(args.id, args.version, install_policy(args))
    print(f"restored version {args.version} of '{args.id}'" if saved.changed else f"version {args.version} is already the current source")
    if saved.wrote:
        print(f"wrote {saved.wrote}")
    if saved.file_error:
        print(f"tuichat: {saved.file_error}", file=sys.stderr)
    return 1 if saved.problem else 0


async def pipes_link(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row, report = await link_file(library, Path(args.file), args.id)
    print(f"linked '{row.id}' to {row.linked_path}")
    print(report.message if report.ok else f"tuichat: {report.message}", file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


async def pipes_unlink(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row = await library.link(args.id, None)
    print(f"'{row.id}' is no longer linked to a file")
    return 0


async def pipes_watch(args: argparse.Namespace, library: FunctionLibrary) -> int:
    row, report = await link_file(library, Path(args.file), args.id)
    print(f"watching {row.linked_path} for '{row.id}' (ctrl+c to stop)", flush=True)
    _print_report(report)
    watch = FileWatch(library, row.id, Path(row.linked_path or args.file), _print_report, args.interval)
    await watch.run()
    return 0


def _print_report(report: WatchReport) -> None:
    stamp = dt.datetime.fromtimestamp(report.at or dt.datetime.now().timestamp()).strftime("%H:%M:%S")
    if report.ok:
        print(f"{stamp} {report.message}", flush=True)
    else:
        print(f"{stamp} error: {report.message}", flush=True)
        if report.detail:
            print(report.detail.rstrip(), flush=True)


PIPE_ACTIONS = {
    "add": pipes_add,
    "import": pipes_import,
    "list": pipes_list,
    "show": pipes_show,
    "export": pipes_export,
    "rm": pipes_rm,
    "enable": pipes_enable,
    "disable": pipes_disable,
    "global": pipes_global,
    "valves": pipes_valves,
    "user-valves": pipes_valves,
    "new": pipes_new,
    "duplicate": pipes_duplicate,
    "versions": pipes_versions,
    "restore": pipes_restore,
    "link": pipes_link,
    "unlink": pipes_unlink,
    "watch": pipes_watch,
}


def _function_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id, "name": row.name, "type": row.type, "is_active": row.is_active, "is_global": row.is_global,
        "meta": row.meta, "valves": row.valves, "load_error": row.load_error,
        "created_at": row.created_at, "updated_at": row.updated_at,
    }
