"""Adding, changing and removing stored functions, with Open WebUI's rules.

A function is loaded before it is stored, so a broken file is refused with its
error and nothing stored changes (Open WebUI answers HTTP 400 the same way).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from tuichat.runtime.errors import FunctionLoadError, InvalidValves, RuntimeErrorBase, pipe_traceback
from tuichat.runtime.frontmatter import extract_frontmatter, replace_imports
from tuichat.runtime.host import PipeHost
from tuichat.runtime.loader import LoadedFunction, load_error_message, load_function, source_filename
from tuichat.runtime.missing import diagnose
from tuichat.runtime.requirements import check_requirements, install
from tuichat.runtime.valves import validate_for_storage, valves_class
from tuichat.store import FunctionRow, function_id_from_filename, validate_function_id

EXAMPLES_SEEDED = "examples_seeded"
EXAMPLE_IDS = ("echo", "manifold", "events", "ask", "markdown")
MAX_MISSING_MODULE_ROUNDS = 8  # a pipe may import several missing packages, one per load
# The function fields of Open WebUI's functions export JSON, in its order.
EXPORT_FIELDS = ("id", "user_id", "name", "type", "content", "meta", "is_active", "is_global", "updated_at", "created_at")

LineSink = Callable[[str], None]


class SourceError(RuntimeErrorBase):
    """The source text itself is unusable (not UTF-8, empty)."""


class FunctionNotFound(RuntimeErrorBase):
    pass


class FunctionExists(RuntimeErrorBase):
    pass


@dataclass
class NewFunction:
    row: FunctionRow
    replaced: bool
    installed: list[str] = field(default_factory=list)  # packages pip installed for it
    problem: str | None = None  # why it is stored but inactive (a failed or skipped install)


@dataclass
class InstallPolicy:
    """How far tuichat may go to make a function load."""

    install_missing: bool = False  # also install packages the code imports but does not declare
    offline: bool = False  # install nothing at all
    on_line: LineSink | None = None  # pip's output, line by line


def decode_source(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}). "
            "Save the pipe as UTF-8 and try again."
        ) from None
    if not text.strip():
        raise SourceError(f"{where} is empty: a pipe needs a `class Pipe` with a `pipe` method.")
    return text.removeprefix("\ufeff")


def function_meta(frontmatter: dict[str, str]) -> dict[str, Any]:
    return {"description": frontmatter.get("description"), "manifest": frontmatter}


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
        _check_syntax(fid, content)
        frontmatter = extract_frontmatter(content)
        requirements = check_requirements(frontmatter.get("requirements", ""))
        fields: dict[str, Any] = {"name": name or frontmatter.get("title") or fid, "content": content, "meta": function_meta(frontmatter)}
        result = await install(requirements, on_line=policy.on_line, offline=policy.offline)
        installed = list(result.requested) if result.ran_pip and result.ok else []
        if not result.ok:
            problem = f"requirements not installed: {result.message}"
            row = await self._save(fid, existing, fields | {"type": guess_type(content), "is_active": False, "load_error": problem})
            return NewFunction(row, existing is not None, installed, problem)
        loaded = await self._load(fid, content, policy, installed, source)
        row = await self._save(fid, existing, fields | {"type": loaded.type, "is_active": True, "load_error": None})
        return NewFunction(row, existing is not None, installed)

    async def _save(self, fid: str, existing: FunctionRow | None, fields: dict[str, Any]) -> FunctionRow:
        if existing is None:
            row = await self.store.functions.insert(id=fid, **fields)
        else:
            row = await self.store.functions.update(fid, **fields)
        self.host.cache.forget(fid)
        return row

    async def _load(
        self, fid: str, content: str, policy: InstallPolicy, installed: list[str], source: str | None
    ) -> LoadedFunction:
        """Load; with `install_missing`, install each module the code lacks and load again."""
        tried: set[str] = set()
        for _ in range(MAX_MISSING_MODULE_ROUNDS):
            try:
                return await load_function(fid, content)
            except FunctionLoadError as error:
                missing = diagnose(error.__cause__ or error, file=source)
                if missing is None:
                    raise
                if not policy.install_missing or not missing.distribution or missing.module in tried:
                    raise FunctionLoadError(fid, f"{error}. {_capitalised(missing.message)}", error.detail) from error.__cause__
                tried.add(missing.module)
                result = await install(missing.pip_args, on_line=policy.on_line, offline=policy.offline)
                if not result.ok:
                    raise FunctionLoadError(fid, f"{error}; installing {missing.distribution} failed: {result.message}", error.detail) from None
                installed.extend(result.requested)
        raise FunctionLoadError(fid, f"function '{fid}' still misses modules after {MAX_MISSING_MODULE_ROUNDS} installs")

    async def remove(self, function_id: str) -> None:
        await self.get(function_id)
        await self.store.functions.delete(function_id)
        self.host.cache.forget(function_id)

    async def enable(self, function_id: str, policy: InstallPolicy | None = None) -> FunctionRow:
        """Install what it needs and load it first: one that still fails stays disabled, with its error."""
        policy = policy or InstallPolicy()
        row = await self.get(function_id)
        requirements = check_requirements(row.meta.get("manifest", {}).get("requirements", ""))
        result = await install(requirements, on_line=policy.on_line, offline=policy.offline)
        if not result.ok:
            problem = f"requirements not installed: {result.message}"
            await self.store.functions.update(row.id, is_active=False, load_error=problem)
            raise FunctionLoadError(row.id, f"function '{row.id}' stays disabled: {problem}")
        try:
            loaded = await self._load(row.id, row.content, policy, [], None)
        except FunctionLoadError as error:
            await self.store.functions.update(row.id, is_active=False, load_error=f"{error}\n\n{error.detail}".rstrip())
            raise
        self.host.cache.forget(row.id)
        return await self.store.functions.update(row.id, type=loaded.type, is_active=True, load_error=None)

    async def disable(self, function_id: str) -> FunctionRow:
        await self.get(function_id)
        return await self.store.functions.update(function_id, is_active=False)

    # -- valves -------------------------------------------------------------------------
    async def valves_model(self, function_id: str, *, user: bool) -> tuple[FunctionRow, Any]:
        row = await self.get(function_id)
        loaded = await self.host.load(row)
        cls = valves_class(loaded.instance, user)
        if cls is None:
            kind = "UserValves" if user else "Valves"
            raise InvalidValves(f"function '{function_id}' has no {kind} class, so it has no {'user ' if user else ''}valves to set.")
        return row, cls

    async def set_valves(
        self, function_id: str, values: dict[str, Any], *, user_id: str | None = None, merge: bool = True
    ) -> dict[str, Any]:
        """Validate and store; `None` removes a key (back to its default), as Open WebUI drops it."""
        row, cls = await self.valves_model(function_id, user=user_id is not None)
        if user_id is not None:
            current = await self.store.functions.get_user_valves(row.id, user_id)
        else:
            current = row.valves
        merged = {**current, **values} if merge else dict(values)
        label = f"{'user ' if user_id else ''}valves for '{function_id}'"
        stored = validate_for_storage(cls, merged, label=label)
        if user_id is not None:
            await self.store.functions.set_user_valves(row.id, user_id, stored)
        else:
            await self.store.functions.set_valves(row.id, stored)
        return stored

    # -- Open WebUI's functions export JSON ---------------------------------------------
    async def export_all(self) -> list[dict[str, Any]]:
        """Every function as Open WebUI's Functions page exports them (valves are not included)."""
        return [{key: getattr(row, key) for key in EXPORT_FIELDS} for row in await self.store.functions.list()]

    async def import_all(
        self, functions: Any, *, replace: bool = False, policy: InstallPolicy | None = None
    ) -> list[tuple[str, NewFunction | Exception]]:
        """Add each exported function; one that fails is reported and the rest go on."""
        if not isinstance(functions, list):
            raise SourceError("an Open WebUI functions export is a JSON list of function objects")
        results: list[tuple[str, NewFunction | Exception]] = []
        for position, item in enumerate(functions, start=1):
            label = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else f"item {position}"
            try:
                results.append((label, await self._import_one(item, position, replace, policy)))
            except (RuntimeErrorBase, ValueError) as error:
                results.append((label, error))
        return results

    async def _import_one(self, item: Any, position: int, replace: bool, policy: InstallPolicy | None) -> NewFunction:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("content"), str):
            raise SourceError(f"item {position} is not a function: it needs a string `id` and `content`")
        added = await self.add(item["content"], function_id=item["id"], name=item.get("name") or None, replace=replace, policy=policy)
        keep = {"is_global": bool(item.get("is_global", False))}
        if added.problem is None:
            keep["is_active"] = bool(item.get("is_active", True))
        added.row = await self.store.functions.update(added.row.id, **keep)
        return added

    # -- examples -----------------------------------------------------------------------
    async def seed_examples(self) -> list[str]:
        """Give an empty store the example pipes, once; a user who deletes them keeps that."""
        if await self.store.settings.get(EXAMPLES_SEEDED):
            return []
        seeded: list[str] = []
        # Checked again inside the write lock: two first runs may race to seed.
        async with self.store.transaction():
            if await self.store.settings.get(EXAMPLES_SEEDED):
                return []
            if await self.store.functions.count() == 0:
                for fid in EXAMPLE_IDS:
                    content = replace_imports(example_source(fid))
                    frontmatter = extract_frontmatter(content)
                    await self.store.functions.insert(
                        id=fid,
                        name=frontmatter.get("title") or fid,
                        type="pipe",
                        content=content,
                        meta=function_meta(frontmatter),
                        is_active=True,
                    )
                    seeded.append(fid)
            await self.store.settings.set(EXAMPLES_SEEDED, True)
        return seeded


def guess_type(content: str) -> str:
    """The function type Open WebUI would derive, read without running the code."""
    names = {node.name for node in ast.parse(content).body if isinstance(node, ast.ClassDef)}
    return next((kind for cls, kind in (("Pipe", "pipe"), ("Filter", "filter"), ("Action", "action")) if cls in names), "pipe")


def _check_syntax(function_id: str, content: str) -> None:
    """A syntax error is reported before anything is installed or stored."""
    try:
        compile(content, source_filename(function_id), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise FunctionLoadError(function_id, load_error_message(function_id, exc), pipe_traceback(exc)) from exc


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def example_source(function_id: str) -> str:
    return resources.files("tuichat.examples").joinpath(f"{function_id}.py").read_text(encoding="utf-8")
