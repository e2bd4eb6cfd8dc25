"""Importing an Open WebUI functions export: every item checked, then stored all or nothing.

`check_export_items` judges each item's fields without running anything (types, ids,
duplicates in the file or already stored, NaN/Infinity and absurd nesting in its valves and
meta); `import_functions` then compiles and loads each function, validates its valves with its
own `Valves`, installs the requirements of the whole file in one pip run, and writes every row
in one transaction. Any problem anywhere raises ImportRefused listing each one (item, id,
field, what is wrong, what to do), and nothing is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from packaging.requirements import Requirement

from tuichat.runtime.errors import FunctionLoadError, RuntimeErrorBase
from tuichat.runtime.library import Checked, InstallPolicy, NewFunction, check_syntax, guess_type
from tuichat.runtime.loading.frontmatter import extract_frontmatter, replace_imports
from tuichat.runtime.loading.pip import install
from tuichat.runtime.loading.requirements import RequirementError, check_conflicts, check_requirements, missing_requirements
from tuichat.runtime.transfer import SourceError, TransferError, function_meta, json_kind, shown_value
from tuichat.runtime.valves import not_finite, refuse_not_finite
from tuichat.store import InvalidFunctionId, Store, StoreError, function_id_from_filename, validate_function_id

if TYPE_CHECKING:
    from tuichat.runtime.library import FunctionLibrary


@dataclass(frozen=True)
class ItemProblem:
    """Why one function of an export cannot be imported, and what to do about it."""

    position: int  # 1-based, in the file's order
    function_id: str | None  # as the file spells it, when it has a usable one
    field: str | None  # the field at fault ("name", "valves.TEMPERATURE"); None: the whole item
    problem: str
    fix: str

    def __str__(self) -> str:
        where = f"item {self.position}" + (f" (id '{self.function_id}')" if self.function_id else "")
        at = f", {self.field}" if self.field else ""
        return f"{where}{at}: {self.problem}; {self.fix}"


class ImportRefused(TransferError):
    """An import stored nothing: every item's problem is listed (`problems`)."""

    def __init__(self, where: str, problems: list[ItemProblem], total: int) -> None:
        self.where = where
        self.problems = problems
        self.total = total
        count = len(problems)
        bad = len({p.position for p in problems})
        head = (
            f"{where}: nothing was imported, because {bad} of {total} function{'s' if total != 1 else ''} "
            f"{'has' if bad == 1 else 'have'} {'a problem' if count == 1 else 'problems'}. "
            "Fix or remove them in the file, then import it again:"
        )
        super().__init__(head + "".join(f"\n  {problem}" for problem in problems))

    def summary(self, limit: int = 8) -> str:
        """The message with at most `limit` problems listed (for a toast)."""
        lines = str(self).split("\n")
        hidden = len(lines) - 1 - limit
        return "\n".join(lines[: limit + 1] + ([f"  … and {hidden} more"] if hidden > 0 else []))


@dataclass
class ExportItem:
    """One function of an export whose fields have the types Open WebUI gives them."""

    position: int
    function_id: str  # lower-cased, valid
    content: str
    name: str | None
    is_active: bool
    is_global: bool
    valves: dict[str, Any] | None


ExistingPolicy = Literal["refuse", "replace", "skip"]
FIELD_TYPES: dict[str, tuple[tuple[type, ...], str, str]] = {
    # field: (the types it may have besides null, in words, what to do)
    "name": ((str,), "a string", "write the name in double quotes, or remove the field to use the pipe's title"),
    "type": ((str,), "a string", 'use "pipe", "filter" or "action", or remove the field'),
    "meta": ((dict,), "an object", "make it an object (or null)"),
    "valves": ((dict,), "an object", 'make it an object like {"API_KEY": "..."} (or null)'),
    "is_active": ((bool,), "true or false", "use true or false (no quotes)"),
    "is_global": ((bool,), "true or false", "use true or false (no quotes)"),
    "user_id": ((str,), "a string", "make it a string, or remove the field"),
    "created_at": ((int, float), "a number", "make it a number of seconds (or remove it)"),
    "updated_at": ((int, float), "a number", "make it a number of seconds (or remove it)"),
}
TYPES = ("pipe", "filter", "action")


def check_export_items(functions: Any, stored: set[str], *, existing: ExistingPolicy) -> tuple[list[ExportItem], list[str], list[ItemProblem]]:
    """Check every item of an export without running any code: (items to import, ids skipped
    as already stored, problems). `stored` holds the ids already stored (lower-case)."""
    if not isinstance(functions, list):
        raise SourceError("an Open WebUI functions export is a JSON list of function objects")
    items: list[ExportItem] = []
    skipped: list[str] = []
    problems: list[ItemProblem] = []
    first_at: dict[str, int] = {}
    for position, item in enumerate(functions, start=1):
        found: list[ItemProblem] = []
        if not isinstance(item, dict):
            problems.append(ItemProblem(
                position, None, None, f"is a JSON {json_kind(item)}, not a function",
                'each item of the list is an object with at least "id" and "content"',
            ))
            continue
        raw_id = item.get("id")
        shown_id = raw_id if isinstance(raw_id, str) and raw_id.isidentifier() else None  # in each problem's heading

        def problem(field_name: str | None, what: str, fix: str, *, _found: list[ItemProblem] = found, _id: str | None = shown_id,
                    _position: int = position) -> None:
            _found.append(ItemProblem(_position, _id, field_name, what, fix))

        function_id: str | None = None
        if "id" not in item or raw_id is None:
            problem("id", "is missing", "give the function an id (letters, digits and _, not starting with a digit)")
        elif not isinstance(raw_id, str):
            problem("id", f"is a {json_kind(raw_id)} ({shown_value(raw_id)}), not a string", "write the id in double quotes")
        else:
            try:
                function_id = validate_function_id(raw_id)
            except InvalidFunctionId:
                problem("id", f"'{raw_id}' is not a valid id (letters, digits and _, not starting with a digit)",
                        f"rename it, e.g. to '{function_id_from_filename(raw_id)}'")
        if function_id is not None:
            if function_id in first_at:
                problem("id", f"is also the id of item {first_at[function_id]}", "give one of them another id, or remove one")
                function_id = None
            else:
                first_at[function_id] = position
        content = item.get("content")
        if content is None:
            problem("content", "is missing", 'add the pipe\'s Python source as "content"')
        elif not isinstance(content, str):
            problem("content", f"is a {json_kind(content)}, not a string", "it must hold the Python source as one string")
        elif not content.strip():
            problem("content", "is empty", "a pipe needs a `class Pipe` with a `pipe` method; add its source or remove the item")
        for name, (types, words, fix) in FIELD_TYPES.items():
            value = item.get(name)
            if value is None:
                continue
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                problem(name, f"is a {json_kind(value)} ({shown_value(value)}), not {words}", fix)
            elif name == "type" and value not in TYPES:
                problem(name, f"is {shown_value(value)}, not one of {', '.join(TYPES)}", fix)
        for name in ("valves", "meta"):
            value = item.get(name)
            if isinstance(value, dict) and (bad := not_finite(value, name)) is not None:
                where, what = bad
                if what.startswith("nested"):
                    problem(where, what, "use a flatter value")
                else:
                    problem(where, f"is {what}, which JSON cannot store", "give a finite number, or null")
        if function_id is not None and function_id in stored:
            if existing == "skip":  # left as it is, whatever the file holds for it
                skipped.append(raw_id)  # type: ignore[arg-type]
                continue
            if existing == "refuse":
                problem("id", f"'{function_id}' is already stored",
                        "pass --replace to update it (its old code stays in its versions), or give the item another id")
        if found:
            problems += found
            continue
        assert function_id is not None and isinstance(content, str)
        name = item.get("name")
        items.append(ExportItem(
            position, function_id, content, name or None,
            is_active=item.get("is_active") is not False, is_global=item.get("is_global") is True,
            valves=item.get("valves") if isinstance(item.get("valves"), dict) else None,
        ))
    return items, skipped, problems


async def stored_ids(store: Store, functions: list[Any]) -> list[str]:
    """The ids in an export that are already stored, as the export spells them."""
    stored = {row.id for row in await store.functions.list()}
    return [item["id"] for item in functions if _importable(item) and item["id"].lower() in stored]


def _importable(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), str) and isinstance(item.get("content"), str)


def export_requirements(functions: list[Any], *, skip: list[str]) -> list[str]:
    """The packages the functions to import (all but `skip`) need and that are not installed,
    looked up once for all of them (reading installed metadata costs ~0.1 s a time)."""
    skipped = {fid.lower() for fid in skip}
    wanted: dict[str, Requirement] = {}
    for item in functions:
        if _importable(item) and item["id"].lower() not in skipped:
            try:
                for req in check_requirements(extract_frontmatter(replace_imports(item["content"])).get("requirements", "")):
                    wanted.setdefault(str(req), req)
            except RequirementError:  # the import reports it for that function
                pass
    return [str(req) for req in missing_requirements(wanted.values())] if wanted else []


@dataclass
class ImportSummary:
    """What an import stored: added or updated (`added`, each `replaced` or not), and the ids
    skipped as already stored. An import that stores anything stores all of it."""

    added: list[NewFunction]
    skipped: list[str]  # already stored, and not replaced

    @property
    def off(self) -> list[str]:
        """Stored switched off, until their packages are installed."""
        return [added.row.id for added in self.added if added.problem]


# -- the import itself ----------------------------------------------------------------------
async def import_functions(
    library: FunctionLibrary,
    functions: Any,
    *,
    existing: ExistingPolicy = "refuse",
    policy: InstallPolicy | None = None,
    where: str = "the export",
) -> ImportSummary:
    """Import an Open WebUI functions export, all or nothing.

    Every item is checked (its fields, then its code compiled, its requirements read, and
    it loaded) before anything is stored; any problem raises ImportRefused listing each
    one, and nothing is stored. Ids already stored are refused, replaced or skipped
    (`existing`). Missing requirements are installed in one pip run; a function whose
    install failed is stored switched off, with the reason, as `add` does. The rows are
    written in one transaction, so a crash or a clash with another process stores none.
    """
    policy = policy or InstallPolicy()
    stored = {row.id for row in await library.store.functions.list()}
    items, skipped, problems = check_export_items(functions, stored, existing=existing)
    prepared = [_Importing(item) for item in items]
    _read_code(prepared, problems)
    wanted = {str(req): req for entry in prepared for req in entry.requirements}
    missing = {str(req): req for req in missing_requirements(wanted.values())} if wanted else {}
    for entry in prepared:  # only what pip would be asked for (reading installed metadata costs ~0.1 s)
        needed = [missing[str(req)] for req in entry.requirements if str(req) in missing]
        try:
            if needed:
                check_conflicts(needed)
        except RequirementError as error:
            problems.append(entry.problem("content (requirements)", str(error), "change its requirements line"))
    failed_install: str | None = None
    installed: list[str] = []
    if problems:  # nothing is installed for an import that will be refused; the rest is checked
        failed_install = "not installed"
    elif missing:
        result = await install(list(missing.values()), on_line=policy.on_line, offline=policy.offline)
        installed = list(result.requested) if result.ran_pip and result.ok else []
        failed_install = None if result.ok else f"requirements not installed: {result.message}"
    checked = {problem.position for problem in problems}
    for entry in prepared:
        if entry.item.position in checked:
            continue
        if failed_install is not None and any(str(req) in missing for req in entry.requirements):
            entry.problem_stored = failed_install
            continue
        try:
            entry.loaded = await library.load_source(entry.item.function_id, entry.content, policy, installed, None)
        except FunctionLoadError as error:
            message = str(error).replace(f"function '{entry.item.function_id}' failed to load: ", "").rstrip(". ")
            # The advice for a missing module names `pipes add`; here it is the import's own flag.
            message = message.replace("tuichat pipes add FILE --install-missing", f"tuichat pipes import {where} --install-missing")
            fix = "install it, or remove this item" if error.missing is not None else "fix the code, or remove this item"
            problems.append(entry.problem("content", f"fails to load: {message}", fix))
            continue
        await entry.check_valves(library, problems)
    if problems:
        raise ImportRefused(where, _in_order(problems), len(functions))
    added: list[NewFunction] = []
    async with library.store.transaction():
        for entry in prepared:
            fid, replacing = entry.item.function_id, entry.item.function_id in stored
            fields = entry.fields()
            try:
                if replacing:
                    row = await library.store.functions.update(fid, origin="imported", **fields)
                else:
                    row = await library.store.functions.insert(id=fid, origin="imported", **fields)
            except StoreError:
                if (await library.store.functions.get(fid) is None) != replacing:
                    raise  # not a clash (a full disk, say): the store's own message says what
                # Another process added or removed it since it was checked; all of it rolls back.
                what = "was deleted" if replacing else "was stored"
                problem = entry.problem("id", f"'{fid}' {what} by another tuichat during this import", "import the file again")
                raise ImportRefused(where, [problem], len(functions)) from None
            added.append(NewFunction(row, replacing, installed if entry.requirements else [], entry.problem_stored))
    for entry in prepared:  # a loaded one already serves in the host process (it loaded there)
        if entry.loaded is None:
            await library.host.forget(entry.item.function_id)
    return ImportSummary(added, skipped)


def _read_code(prepared: list[_Importing], problems: list[ItemProblem]) -> None:
    """Compile each source and read its requirements, without running any of it."""
    for entry in prepared:
        fid = entry.item.function_id
        try:
            check_syntax(fid, entry.content)
        except FunctionLoadError as error:
            message = str(error).replace(f"function '{fid}' failed to load: ", "").rstrip(". ")
            problems.append(entry.problem("content", message, "fix the code, or remove this item"))
            continue
        entry.frontmatter = extract_frontmatter(entry.content)
        try:
            entry.requirements = check_requirements(entry.frontmatter.get("requirements", ""))
        except RequirementError as error:
            problems.append(entry.problem("content (requirements)", str(error), "fix its requirements line"))


@dataclass
class _Importing:
    """One function of an import on its way to the store."""

    item: ExportItem
    content: str = ""
    frontmatter: dict[str, str] = field(default_factory=dict)
    requirements: list[Any] = field(default_factory=list)
    loaded: Checked | None = None
    problem_stored: str | None = None  # stored switched off, for this reason (a failed install)
    valves: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.content = replace_imports(self.item.content.removeprefix("\ufeff"))

    def problem(self, field_name: str, what: str, fix: str) -> ItemProblem:
        return ItemProblem(self.item.position, self.item.function_id, field_name, what, fix)

    async def check_valves(self, library: FunctionLibrary, problems: list[ItemProblem]) -> None:
        """Valves in the export are validated by the function's own `Valves`, when it has one
        (in the pipe host, where it was just loaded)."""
        valves = self.item.valves
        if not valves:
            return
        try:
            refuse_not_finite(valves, "valves")
            answer = await library.host.valves(
                "check", self.item.function_id, self.content, user=False, values=valves, label="valves", no_class_ok=True
            )
        except RuntimeErrorBase as error:  # not finite, or the Valves class took the host down
            problems.append(self.problem("valves", str(error).removeprefix("invalid valves: "), "correct them, or remove the field"))
            return
        if answer.get("values") is not None:
            self.valves = dict(answer["values"])
            return
        details = answer.get("details") or []
        if not details:
            problems.append(self.problem("valves", str(answer.get("message", "")).removeprefix("invalid valves: "), "correct them, or remove the field"))
        for found in details:  # one problem a field, in pydantic's words
            where = ".".join(["valves", *(str(part) for part in found.get("loc", ()))])
            got = f" (got {json.dumps(found['input'])[:40]})" if found.get("type") != "missing" else ""
            problems.append(self.problem(where, f"{found.get('msg', 'invalid')}{got}", "correct it, or remove it from the valves"))

    def fields(self) -> dict[str, Any]:
        item, loaded = self.item, self.loaded
        fields: dict[str, Any] = {
            "name": item.name or self.frontmatter.get("title") or item.function_id,
            "content": self.content,
            "meta": function_meta(self.frontmatter),
            "type": loaded.type if loaded is not None else guess_type(self.content),
            "is_active": loaded is not None and item.is_active,
            "is_global": item.is_global,
            "load_error": self.problem_stored,
        }
        if self.valves is not None:
            fields["valves"] = self.valves
        return fields


def _in_order(problems: list[ItemProblem]) -> list[ItemProblem]:
    return sorted(problems, key=lambda problem: problem.position)
