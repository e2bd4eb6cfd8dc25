"""Adding, changing and removing stored functions, with Open WebUI's rules.

A function is loaded before it is stored, so a broken file is refused with its
error and nothing stored changes (Open WebUI answers HTTP 400 the same way).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuichat.runtime.errors import FunctionLoadError, InvalidValves, RuntimeErrorBase
from tuichat.runtime.function_source import check_syntax, guess_type, installable_missing, template_source
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library_outcomes import (
    Checked,
    FunctionExists,
    FunctionNotFound,
    InstallPolicy,
    NewFunction,
    Saved,
)
from tuichat.runtime.loading.frontmatter import extract_frontmatter, replace_imports
from tuichat.runtime.loading.missing import MissingModule
from tuichat.runtime.loading.requirements import RequirementError, check_requirements, missing_requirements
from tuichat.runtime.transfer import (
    EXAMPLE_IDS,
    EXPORT_FIELDS,
    Manifest,
    SourceError,
    decode_source,
    example_source,
    export_functions,
    function_meta,
    seed_examples,
    write_atomically,
)
from tuichat.runtime.valves import refuse_not_finite
from tuichat.store import FunctionRow, FunctionVersion, function_id_from_filename, validate_function_id
from tuichat.store.functions import VersionOrigin

if TYPE_CHECKING:
    from tuichat.runtime.importing import ExistingPolicy, ImportSummary

__all__ = [  # with what it re-exports from tuichat.runtime.transfer, where it now lives
    "EXAMPLE_IDS", "EXPORT_FIELDS", "TEMPLATES", "FunctionExists", "FunctionLibrary", "FunctionNotFound", "InstallPolicy",
    "Manifest", "NewFunction", "Saved", "SourceError", "decode_source", "example_source", "guess_type",
    "installable_missing", "template_source",
]

TEMPLATES = ("pipe", "manifold", "tool")  # sources in tuichat/templates/ a new function starts from
MAX_MISSING_MODULE_ROUNDS = 8  # a pipe may import several missing packages, one per load

class FunctionLibrary:
    def __init__(self, host: PipeHost) -> None:
        self.host = host
        self.store = host.store

    async def get(self, function_id: str) -> FunctionRow:
        row = await self.store.functions.get(function_id)
        if row is None:
            raise FunctionNotFound(f"no function '{function_id}' is stored. Run `tuichat pipes list` to see them.")
        return row

    async def add(
        self,
        content: str,
        *,
        function_id: str | None = None,
        name: str | None = None,
        stem: str = "pipe",
        replace: bool = False,
        policy: InstallPolicy | None = None,
        source: str | None = None,
        origin: VersionOrigin | None = None,
    ) -> NewFunction:
        """Validate, install what it needs, load and store a function.

        The stored text is the rewritten one. A syntax error, a bad `requirements`
        entry or a load failure stores nothing; a failed install stores the function
        inactive with pip's error, as the issue of a package index is not the pipe's.
        """
        policy = policy or InstallPolicy()
        fid = validate_function_id(function_id) if function_id else function_id_from_filename(stem)
        existing = await self.store.functions.get(fid)
        if existing is not None and not replace:
            raise FunctionExists(
                f"a function with id '{fid}' is already stored. "
                "Pass --replace to update it, or --id to store this one under another id."
            )
        content = replace_imports(content)
        check_syntax(fid, content)
        frontmatter = extract_frontmatter(content)
        requirements = check_requirements(frontmatter.get("requirements", ""))
        fields: dict[str, Any] = {"name": name or frontmatter.get("title") or fid, "content": content, "meta": function_meta(frontmatter)}
        result = await policy.install(requirements)
        installed = list(result.requested) if result.ran_pip and result.ok else []
        origin = origin or ("saved" if existing else "created")
        # As Open WebUI does offline: requirements not installed, the module loads anyway,
        # and one that imports fine without them (optional or stdlib ones) is on.
        not_installed = None if result.ok else f"requirements not installed: {result.message}"
        try:
            loaded = await self.load_source(fid, content, policy, installed, source)
        except FunctionLoadError as error:
            if not_installed is None:
                raise
            problem = f"{not_installed}. Without them it does not load: {error}"
            fields |= {"type": guess_type(content), "is_active": False, "load_error": problem}
            row = await self._save(fid, existing, fields, origin)
            return NewFunction(row, existing is not None, installed, problem)
        row = await self._save(fid, existing, fields | {"type": loaded.type, "is_active": True, "load_error": None}, origin)
        return NewFunction(row, existing is not None, installed, warning=_loads_without(not_installed))

    async def _save(self, fid: str, existing: FunctionRow | None, fields: dict[str, Any], origin: VersionOrigin) -> FunctionRow:
        if existing is None:
            row = await self.store.functions.insert(id=fid, origin=origin, **fields)
        else:
            row = await self.store.functions.update(fid, origin=origin, **fields)
        if not row.is_active:
            await self.host.forget(fid)
        return row

    # -- the workshop: saving edits, versions, templates, linked files --------------------
    async def save_source(
        self, function_id: str, content: str, *, origin: VersionOrigin = "saved", policy: InstallPolicy | None = None
    ) -> Saved:
        """Store new source for a function, as Open WebUI's update does: it must compile and
        load, and the instance it built serves from then on.

        A source that is refused (syntax, load or requirement error) is still kept as a
        version, with its error, so nothing typed is lost; the last good source keeps
        serving. A failed install stores the source but leaves the function inactive.
        """
        policy = policy or InstallPolicy()
        row = await self.get(function_id)
        content = replace_imports(content.removeprefix("\ufeff"))
        if content == row.content and row.load_error is None:
            return Saved(row, changed=False)
        installed: list[str] = []
        try:
            if not content.strip():
                raise SourceError(f"the source of '{function_id}' is empty: a pipe needs a `class Pipe` with a `pipe` method.")
            check_syntax(row.id, content)
            frontmatter = extract_frontmatter(content)
            requirements = check_requirements(frontmatter.get("requirements", ""))
            fields: dict[str, Any] = {
                "content": content,
                "meta": function_meta(frontmatter),
                "name": frontmatter.get("title") or row.name,
            }
            result = await policy.install(requirements)
            if result.ran_pip and result.ok:
                installed = list(result.requested)
            not_installed = None if result.ok else f"requirements not installed: {result.message}"
            try:
                loaded = await self.load_source(row.id, content, policy, installed, None)
            except FunctionLoadError as error:
                if not_installed is None:
                    raise
                problem = f"{not_installed}. Without them it does not load: {error}"
                fields |= {"type": guess_type(content), "is_active": False, "load_error": problem}
                row = await self.store.functions.update(row.id, origin=origin, **fields)
                await self.host.forget(row.id)
                return await self._write_linked(Saved(row, True, installed, problem), origin)
        except (FunctionLoadError, RequirementError, SourceError) as error:
            await self.store.functions.add_version(row.id, content, origin, error=str(error))
            raise
        # A function switched off by an error comes back on; one the user switched off stays off.
        active = True if row.load_error else row.is_active
        row = await self.store.functions.update(
            row.id, origin=origin, **fields, type=loaded.type, is_active=active, load_error=None
        )
        return await self._write_linked(Saved(row, True, installed, warning=_loads_without(not_installed)), origin)

    async def _write_linked(self, saved: Saved, origin: VersionOrigin) -> Saved:
        """A source saved here (not read from the file) goes to the function's linked file too,
        so the file and the store agree: otherwise the next save of the file would silently
        replace this one. The watcher then reads it back as unchanged. A file that cannot be
        written doesn't undo the save: the store has the source, and the error says why."""
        path = saved.row.linked_path
        if path is None or origin == "watched":
            return saved
        try:
            await asyncio.to_thread(write_atomically, Path(path), saved.row.content)
        except OSError as exc:
            saved.file_error = (
                f"saved in tuichat, but not written to {path}: {exc.strerror or exc}. "
                f"Fix the path or unlink it (`tuichat pipes unlink {saved.row.id}`); "
                "until then the file's next change replaces this source."
            )
        else:
            saved.wrote = path
        return saved

    async def versions(self, function_id: str) -> list[FunctionVersion]:
        """Every version of a function's source, newest first."""
        row = await self.get(function_id)
        return await self.store.functions.versions(row.id)

    async def restore(self, function_id: str, number: int, policy: InstallPolicy | None = None) -> Saved:
        """Save an earlier version (#`number` of this function) again; checked and loaded like any save."""
        version = await self.store.functions.get_version(function_id, number)
        if version is None:
            raise FunctionNotFound(
                f"'{function_id}' has no version #{number}. Run `tuichat pipes versions {function_id}` to list them."
            )
        return await self.save_source(function_id, version.content, origin="restored", policy=policy)

    async def create(self, function_id: str, *, template: str = "pipe", name: str | None = None) -> FunctionRow:
        """A new function from one of TEMPLATES; it loads, so it is stored active."""
        if template not in TEMPLATES:
            raise SourceError(f"there is no template '{template}'; the templates are: {', '.join(TEMPLATES)}.")
        content = template_source(template)
        if name:
            content = content.replace(f"title: {'New Tools' if template == 'tool' else 'New Pipe'}", f"title: {name.strip()}", 1)
        return (await self.add(content, function_id=function_id, name=name or None, origin="created")).row

    async def duplicate(self, function_id: str, new_id: str | None = None) -> FunctionRow:
        """A copy under a new id (`<id>_clone` by default, as Open WebUI's Clone); valves are not copied."""
        row = await self.get(function_id)
        if new_id is None:
            new_id = await self._free_id(f"{row.id}_clone")
        new_id = validate_function_id(new_id)
        if await self.store.functions.get(new_id) is not None:
            raise FunctionExists(f"a function with id '{new_id}' is already stored; choose another id for the copy.")
        return await self.store.functions.insert(
            id=new_id, name=f"{row.name} (Clone)", type=row.type, content=row.content, meta=row.meta,
            is_active=row.is_active, load_error=row.load_error, origin="duplicated",
        )

    async def _free_id(self, base: str) -> str:
        candidate, number = base, 1
        while await self.store.functions.get(candidate) is not None:
            number += 1
            candidate = f"{base}_{number}"
        return candidate

    async def link(self, function_id: str, path: str | None) -> FunctionRow:
        """Keep a function in step with a file (None unlinks); the file is read by `watch`."""
        row = await self.get(function_id)
        return await self.store.functions.update(row.id, linked_path=path)

    async def missing_for(self, content: str) -> list[str]:
        """The `requirements` of a source not yet installed, to ask before installing them.

        A malformed entry raises RequirementError, the same error a save would give.
        """
        requirements = check_requirements(extract_frontmatter(replace_imports(content)).get("requirements", ""))
        return [str(req) for req in missing_requirements(requirements)]

    async def load_source(
        self, fid: str, content: str, policy: InstallPolicy, installed: list[str], source: str | None
    ) -> Checked:
        """Load in the host process (a good load serves from then on, as Open WebUI keeps the
        instance a save built); with `install_missing`, install each module the code lacks
        and load again."""
        tried: set[str] = set()
        for _ in range(MAX_MISSING_MODULE_ROUNDS):
            try:
                return Checked(**await self.host.check_load(fid, content, source))
            except FunctionLoadError as error:
                missing = error.missing if isinstance(error.missing, MissingModule) else None
                if missing is None:
                    raise
                if not policy.install_missing or not missing.distribution or missing.module in tried:
                    raise FunctionLoadError(
                        fid, f"{error}. {_capitalised(missing.message)}", error.detail,
                        line=error.line, column=error.column, missing=missing,
                    ) from None
                tried.add(missing.module)
                result = await policy.install(missing.pip_args)
                if not result.ok:
                    raise FunctionLoadError(
                        fid, f"{error}; installing {missing.distribution} failed: {result.message}", error.detail,
                        line=error.line, column=error.column, missing=missing,
                    ) from None
                installed.extend(result.requested)
        raise FunctionLoadError(fid, f"function '{fid}' still misses modules after {MAX_MISSING_MODULE_ROUNDS} installs")

    async def remove(self, function_id: str) -> None:
        await self.get(function_id)
        await self.store.functions.delete(function_id)
        await self.host.forget(function_id)

    async def enable(self, function_id: str, policy: InstallPolicy | None = None) -> FunctionRow:
        """Install what it needs and load it first: one that still fails stays disabled, with its error."""
        policy = policy or InstallPolicy()
        row = await self.get(function_id)
        requirements = check_requirements(Manifest.of(row).requirements)
        result = await policy.install(requirements)
        not_installed = None if result.ok else f"requirements not installed: {result.message}"
        try:
            loaded = await self.load_source(row.id, row.content, policy, [], None)
        except FunctionLoadError as error:
            if not_installed is not None:
                problem = f"{not_installed}. Without them it does not load: {error}"
                await self.store.functions.update(row.id, is_active=False, load_error=problem)
                raise FunctionLoadError(row.id, f"function '{row.id}' stays disabled: {problem}", error.detail) from error
            await self.store.functions.update(row.id, is_active=False, load_error=f"{error}\n\n{error.detail}".rstrip())
            raise
        return await self.store.functions.update(row.id, type=loaded.type, is_active=True, load_error=None)

    async def disable(self, function_id: str) -> FunctionRow:
        await self.get(function_id)
        return await self.store.functions.update(function_id, is_active=False)

    async def set_global(self, function_id: str, on: bool) -> FunctionRow:
        """A global filter runs for every model (Open WebUI's `is_global`); only filters have it."""
        row = await self.get(function_id)
        if row.type != "filter":
            raise RuntimeErrorBase(f"'{function_id}' is a {row.type}, not a filter: only filters can be global.")
        return await self.store.functions.update(function_id, is_global=on)

    # -- valves -------------------------------------------------------------------------
    async def set_valves(
        self, function_id: str, values: dict[str, Any], *, user_id: str | None = None, merge: bool = True
    ) -> dict[str, Any]:
        """Validate (by the function's own class, in the pipe host) and store; `None` removes a
        key (back to its default), as Open WebUI drops it."""
        row = await self.get(function_id)
        if user_id is not None:
            current = await self.store.functions.get_user_valves(row.id, user_id)
        else:
            current = row.valves
        merged = {**current, **values} if merge else dict(values)
        label = f"{'user ' if user_id else ''}valves for '{function_id}'"
        refuse_not_finite(merged, label)  # here: the wire to the host is JSON, which has no NaN
        # Names typed must exist; a null for a stored name no field has any more clears it.
        typed = [key for key, value in values.items() if not (value is None and key in current)]
        answer = await self.host.valves(
            "check", row.id, row.content, user=user_id is not None, values=merged, label=label, typed=typed
        )
        if answer.get("values") is None:
            raise InvalidValves(str(answer.get("message") or f"invalid {label}"))
        stored = dict(answer["values"])
        if user_id is not None:
            await self.store.functions.set_user_valves(row.id, user_id, stored)
        else:
            await self.store.functions.set_valves(row.id, stored)
        return stored

    # -- Open WebUI's functions export JSON and the examples (tuichat.runtime.transfer) -------
    async def export_all(self) -> list[dict[str, Any]]:
        """Every function as Open WebUI's Functions page exports them (valves are not included)."""
        return await export_functions(self.store)

    async def import_all(
        self, functions: Any, *, existing: ExistingPolicy = "refuse", policy: InstallPolicy | None = None, where: str = "the export"
    ) -> ImportSummary:
        """Import an Open WebUI functions export, all or nothing (`importing.import_functions`)."""
        from tuichat.runtime.importing import import_functions  # it builds on this module

        return await import_functions(self, functions, existing=existing, policy=policy, where=where)

    async def seed_examples(self) -> list[str]:
        """Give an empty store the example pipes, once; a user who deletes them keeps that."""
        return await seed_examples(self.store)


def _loads_without(not_installed: str | None) -> str | None:
    return f"{not_installed}. It loads without them, so it is on." if not_installed else None


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
