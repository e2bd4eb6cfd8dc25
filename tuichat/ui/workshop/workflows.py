"""The pipe workshop's workflows, each written once and used wherever it applies.

A workflow is an async function run in a worker of a `WorkshopScreen` (`run_workflow`): it asks
what it must in dialogs over that screen, calls the runtime, tells the app what changed
(`functions_changed`), and returns a Message for the screen to show (None when the user said
no). The runtime judges files and sources (`tuichat.runtime.transfer`, `FunctionLibrary`);
errors meant for the user are raised as they are and shown by the screen's worker handler.
What a function needs is installed by one loop for all of them (`installing.with_installs`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.message import Message

from tuichat.runtime.errors import FunctionLoadError, RuntimeErrorBase
from tuichat.runtime.importing import ImportRefused, ImportSummary, check_export_items, export_requirements, stored_ids
from tuichat.runtime.library import InstallPolicy, NewFunction, Saved
from tuichat.runtime.loading.requirements import RequirementError
from tuichat.runtime.transfer import (
    TransferError,
    export_text,
    frontmatter_line,
    read_bytes,
    read_functions_export,
    read_source,
    write_private,
    write_text,
)
from tuichat.store import FunctionRow, FunctionVersion, function_id_from_filename
from tuichat.ui.screens.valves_form import ValvesScreen
from tuichat.ui.workshop.base import WorkshopScreen
from tuichat.ui.workshop.installing import agree_to_install, with_installs
from tuichat.ui.workshop.messages import (
    FunctionDeleted,
    FunctionLinked,
    FunctionSaved,
    FunctionsChanged,
    FunctionsExported,
    FunctionsImported,
    SaveRefused,
    WorkflowDone,
)
from tuichat.ui.workshop.new_function import NewFunctionScreen

Screen = WorkshopScreen[Any]
RowFlow = Callable[[Screen, FunctionRow], Awaitable[Message | None]]  # a workflow on one function


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


# -- saving source (the editor, and restoring a version) -----------------------------------------
async def save(
    screen: Screen, function_id: str, text: str, version: FunctionVersion | None = None, *, close_after: bool = False
) -> FunctionSaved | SaveRefused:
    """Store `text` (or restore `version`) as the source of `function_id`: compiled and loaded
    first, installing what it needs when the user agrees. A refused save keeps the last good
    source serving; the answer says why, and where."""
    library = await screen.library()

    def store(policy: InstallPolicy) -> Awaitable[Saved]:
        if version is not None:
            return library.restore(function_id, version.number, policy=policy)
        return library.save_source(function_id, text, policy=policy)

    try:
        missing = await library.missing_for(text)
    except RequirementError:
        missing = []  # the save refuses it with the same error, and keeps the version
    agreed = await agree_to_install(
        screen, f"'{function_id}'", missing, "If not, the source is stored, but the function stays off until it is."
    )
    try:
        saved = await with_installs(screen, f"Installing for '{function_id}'", missing if agreed else [], store)
    except FunctionLoadError as error:
        return SaveRefused(error, error.detail, error.line, error.column)
    except RequirementError as error:
        line = frontmatter_line(text, "requirements")
        return SaveRefused(error, line=None if line is None else line + 1)
    except RuntimeErrorBase as error:  # SourceError (empty), FunctionNotFound (deleted meanwhile)
        return SaveRefused(error)
    if saved.changed:
        screen.app.functions_changed.publish(function_id)
    return FunctionSaved(saved, text, version, close_after)


# -- new, on/off, delete, duplicate, valves (the pipes screen) -----------------------------------
async def create(screen: Screen, taken: set[str]) -> FunctionsChanged | None:
    answer = await screen.ask(NewFunctionScreen(taken))
    if answer is None:
        return None
    function_id, template = answer
    row = await (await screen.library()).create(function_id, template=template)
    screen.app.functions_changed.publish(row.id)
    return FunctionsChanged(row.id, f"Created {row.type} '{row.id}' from the {template} template. Press e to edit it.")


async def switch(screen: Screen, row: FunctionRow) -> WorkflowDone:
    """Off, or on: installing its requirements first, when the user agrees."""
    library = await screen.library()
    if row.is_active:
        await library.disable(row.id)
        screen.app.functions_changed.publish(row.id)
        return FunctionsChanged(row.id, f"'{row.id}' is off: its models are gone from the model picker.")
    missing = await library.missing_for(row.content)
    if missing and not await agree_to_install(screen, f"'{row.id}'", missing, "If not, it stays off."):
        return WorkflowDone(f"'{row.id}' stays off until {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} installed.")
    try:
        enabled = await with_installs(screen, f"Switching on '{row.id}'", missing, lambda policy: library.enable(row.id, policy))
    finally:  # a failed enable stores its error: the list shows it
        screen.app.functions_changed.publish(row.id)
    return FunctionsChanged(enabled.id, f"'{enabled.id}' is on.")


async def switch_global(screen: Screen, row: FunctionRow) -> WorkflowDone:
    """A filter global (every model) or not, as `tuichat pipes global ID on|off`."""
    if row.type != "filter":
        return WorkflowDone(f"'{row.id}' is a {row.type}: only filters can be global.", severity="warning")
    changed = await (await screen.library()).set_global(row.id, not row.is_global)
    screen.app.functions_changed.publish(row.id)
    if changed.is_global:
        return FunctionsChanged(row.id, f"'{row.id}' is global: it runs for every model{'' if row.is_active else ' once switched on (t)'}.")
    return FunctionsChanged(row.id, f"'{row.id}' is not global: it runs only for the models it is attached to.")


async def delete(screen: Screen, row: FunctionRow) -> FunctionDeleted | None:
    linked = f"\n\nIts file {row.linked_path} stays on disk and is no longer watched." if row.linked_path else ""
    if not await screen.confirm(
        f"Delete the function '{row.id}' ({row.name}) with its valves and saved versions? This cannot be undone.{linked}",
        title="Delete function", yes="Delete", no="Keep", destructive=True,
    ):
        return None
    await (await screen.library()).remove(row.id)
    if row.linked_path and screen.app.watcher is not None:
        await screen.app.watcher.refresh()
    screen.app.functions_changed.publish(row.id)
    return FunctionDeleted(row.id, f"Deleted '{row.id}'.")


async def duplicate(screen: Screen, row: FunctionRow, taken: set[str]) -> FunctionsChanged | None:
    suggestion, number = f"{row.id}_clone", 1
    while suggestion in taken:
        number += 1
        suggestion = f"{row.id}_clone_{number}"
    new_id = await screen.prompt(f"Duplicate '{row.id}'", suggestion, message="Id of the copy (its valves are not copied):", submit="Duplicate")
    if new_id is None:
        return None
    copy = await (await screen.library()).duplicate(row.id, new_id)
    screen.app.functions_changed.publish(copy.id)
    return FunctionsChanged(copy.id, f"Copied '{row.id}' to '{copy.id}'.")


async def edit_valves(screen: Screen, row: FunctionRow, *, user: bool) -> FunctionsChanged | None:
    """The admin valves form, or (`user`) the local user's own valves."""
    library = await screen.library()
    user_id = (await library.store.users.local())["id"] if user else None
    if await screen.ask(ValvesScreen(row.id, user_id=user_id)) is None:
        return None
    screen.app.functions_changed.publish(row.id)
    return FunctionsChanged(row.id, f"{'Your user valves' if user else 'Valves'} for '{row.id}' saved; the next message uses them.")


# -- import and export ---------------------------------------------------------------------------
async def import_file(screen: Screen, taken: set[str]) -> FunctionsChanged | None:
    """A pipe's .py file, under the id its name gives (or another, or replacing that one)."""
    answer = await screen.prompt(
        "Import a pipe (.py)", message="Path of the Python file (~ works):", placeholder="~/pipes/my_pipe.py",
        submit="Import",
    )
    if answer is None:
        return None
    path = Path(answer).expanduser()
    content = await asyncio.to_thread(read_source, path)
    function_id, replace = function_id_from_filename(path.stem), False
    if function_id in taken:
        replace = await screen.confirm(
            f"A function '{function_id}' is already stored. Replace its code with {path.name}? "
            "(Its valves are kept, and the old code stays in its versions.)",
            title="Replace?", yes="Replace", no="Use another id",
        )
        if not replace:
            function_id = await screen.prompt("Import under another id", f"{function_id}_2", message="Id for the imported function:", submit="Import")
            if function_id is None:
                return None
    library = await screen.library()
    missing = await library.missing_for(content)
    agreed = await agree_to_install(screen, path.name, missing, "If not, it is stored switched off until they are.")

    def add(policy: InstallPolicy) -> Awaitable[NewFunction]:
        return library.add(content, function_id=function_id, stem=path.stem, replace=replace, policy=policy, source=str(path))

    try:
        added = await with_installs(screen, f"Installing for {path.name}", missing if agreed else [], add)
    except FunctionLoadError as error:
        detail = f"\n{error.detail.rstrip()}" if error.detail else ""
        raise FunctionLoadError(error.function_id, f"{path}: {error}. Nothing was stored.{detail}") from error
    row = added.row
    screen.app.functions_changed.publish(row.id)
    verb = "Replaced" if added.replaced else "Imported"
    if added.problem:
        return FunctionsChanged(
            row.id, f"{verb} '{row.id}' from {path.name}, switched off: {added.problem}. "
            "Press space to install what it needs and switch it on.", severity="warning", timeout=10,
        )
    return FunctionsChanged(row.id, f"{verb} {row.type} '{row.id}' from {path.name}.", and_models=True)


async def import_export(screen: Screen) -> FunctionsImported | None:
    """An Open WebUI functions export (JSON), all or nothing: a file with a bad item stores
    nothing and lists every problem; stored ones are replaced or skipped, as the user says."""
    answer = await screen.prompt(
        "Import Open WebUI functions (JSON)",
        message="Path of a functions export (Admin › Functions › Export in Open WebUI):",
        placeholder="~/Downloads/functions-export.json",
        submit="Import",
    )
    if answer is None:
        return None
    path = Path(answer).expanduser()
    functions = await asyncio.to_thread(read_functions_export, path)
    _, _, problems = check_export_items(functions, set(), existing="replace")  # before asking anything
    if problems:
        raise ImportRefused(path.name, problems, len(functions))
    library = await screen.library()
    taken = await stored_ids(library.store, functions)
    replace = bool(taken) and await screen.confirm(
        f"{len(taken)} of these {'is' if len(taken) == 1 else 'are'} already stored: {_listed(taken)}.\n\n"
        "Replace them with the imported code? (If not, they are skipped.)",
        title="Replace?", yes="Replace", no="Skip them",
    )
    missing = await asyncio.to_thread(export_requirements, functions, skip=[] if replace else taken)
    agreed = await agree_to_install(screen, "This import", missing, "If not, the functions that need them are stored switched off.")

    def run(policy: InstallPolicy) -> Awaitable[ImportSummary]:
        return library.import_all(functions, existing="replace" if replace else "skip", policy=policy, where=path.name)

    summary = await with_installs(screen, f"Installing for {path.name}", missing if agreed else [], run)
    if summary.added:  # once: every open screen and the model picker read them all again
        screen.app.functions_changed.publish(summary.added[0].row.id)
    return FunctionsImported(summary, path)


def _listed(ids: list[str], limit: int = 12) -> str:
    shown = ", ".join(ids[:limit])
    return shown if len(ids) <= limit else f"{shown} and {len(ids) - limit} more"


async def export_all(screen: Screen) -> FunctionsExported | None:
    """Every function to one file, as Open WebUI's functions export."""
    default = f"./functions-export-{dt.date.today().isoformat()}.json"
    answer = await screen.prompt(
        "Export all functions (Open WebUI JSON)", default, message="Write every function, as Open WebUI's functions export, to:",
        submit="Export",
    )
    if answer is None:
        return None
    path = Path(answer).expanduser()
    if path.is_dir():
        raise TransferError(f"{path} is a folder: give a file name, e.g. {path / Path(default).name}")
    if path.exists() and not await screen.confirm(
        f"{path} already exists. Overwrite it?", title="Overwrite?", yes="Overwrite", no="Cancel", destructive=True
    ):
        return None
    functions = await (await screen.library()).export_all()
    await asyncio.to_thread(write_private, path, export_text(functions))
    return FunctionsExported(f"Exported {_plural(len(functions), 'function')} to {path.resolve()}")


# -- linking to a file ---------------------------------------------------------------------------
async def link(screen: Screen, row: FunctionRow) -> FunctionLinked | None:
    """Link a function to a .py file that is then live-reloaded (created from its code when new);
    a linked one is offered to be unlinked instead."""
    from tuichat.runtime.watch import link_file

    app, library = screen.app, await screen.library()
    if row.linked_path:
        if not await screen.confirm(
            f"'{row.id}' is linked to {row.linked_path}: each save of that file reloads it.\n\n"
            "Unlink it? (The file stays; the function keeps its current code.)",
            title="Unlink?", yes="Unlink", no="Keep",
        ):
            return None
        await library.link(row.id, None)
        if app.watcher is not None:
            await app.watcher.refresh()
        app.functions_changed.publish(row.id)
        return FunctionLinked(row.id, None, f"'{row.id}' is no longer linked to a file.")
    answer = await screen.prompt(
        f"Link '{row.id}' to a file", f"./{row.id}.py",
        message="Keep this function in step with a file: each save of it reloads the function.",
        submit="Link",
    )
    if answer is None:
        return None
    path = Path(answer).expanduser().resolve()
    if path.is_dir():
        raise TransferError(f"{path} is a folder: give a .py file name, e.g. {path / (row.id + '.py')}")
    if not path.exists():
        if not await screen.confirm(
            f"{path} does not exist. Create it with the current code of '{row.id}' and link it?",
            title="Create file?", yes="Create", no="Cancel",
        ):
            return None
        await asyncio.to_thread(write_text, path, row.content, advice="")
    else:
        current = (await asyncio.to_thread(read_bytes, path)).decode("utf-8", errors="replace")
        if current.removeprefix("\ufeff") != row.content and not await screen.confirm(
            f"{path.name} differs from the stored code of '{row.id}'. Linking loads the file's code into "
            f"'{row.id}' now (the stored code stays in its versions). Link it?",
            title="Use the file's code?", yes="Link", no="Cancel",
        ):
            return None
    linked, report = await link_file(library, path, row.id)
    if app.watcher is not None:
        await app.watcher.refresh()
    app.functions_changed.publish(linked.id)
    if report.message.startswith("unchanged"):
        return FunctionLinked(linked.id, report, f"Linked '{linked.id}' to {path}: saving the file reloads it.")
    app.report_watch(report)
    return FunctionLinked(linked.id, report)
