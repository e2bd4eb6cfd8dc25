"""Functions in and out of tuichat, in Open WebUI's formats.

A pipe's .py file (read with errors that say what is wrong and what to do), the `meta` its
frontmatter is stored as and the manifest read back from it, Open WebUI's functions export
JSON (checked, imported, exported), and the example pipes a new store is seeded with. The
TUI and the CLI both use these, so a file is judged the same way wherever it is opened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from packaging.requirements import Requirement

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.runtime.loading.frontmatter import extract_frontmatter, replace_imports
from tuichat.runtime.loading.requirements import RequirementError, check_requirements, missing_requirements
from tuichat.runtime.valves import not_finite
from tuichat.store import FunctionRow, InvalidFunctionId, Store, function_id_from_filename, validate_function_id

if TYPE_CHECKING:
    from tuichat.runtime.library import NewFunction

EXAMPLES_SEEDED = "examples_seeded"
EXAMPLE_IDS = ("echo", "manifold", "events", "ask", "markdown")
# The function fields of Open WebUI's functions export JSON, in its order.
EXPORT_FIELDS = ("id", "user_id", "name", "type", "content", "meta", "is_active", "is_global", "updated_at", "created_at")


class SourceError(RuntimeErrorBase):
    """The source text itself is unusable (not UTF-8, empty)."""


class TransferError(RuntimeErrorBase):
    """A file could not be read or written, or does not hold what it should."""


# -- a pipe's source file ---------------------------------------------------------------------
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


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or a TransferError that names the path and says what is wrong."""
    if path.is_dir():
        raise TransferError(f"{path} is a folder, not a file")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TransferError(f"{path} does not exist. Check the path (~ is your home folder).") from None
    except OSError as error:
        raise TransferError(f"cannot read {path}: {error.strerror or error}") from None


def read_source(path: Path) -> str:
    """The pipe source in a .py file (UTF-8, not empty)."""
    return decode_source(read_bytes(path), str(path))


def write_text(path: Path, text: str, *, advice: str = "Pick another path.") -> None:
    """Write a text file, or raise a TransferError that says why not."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise TransferError(f"cannot write {path}: {error.strerror or error}. {advice}".rstrip()) from None


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file renamed over it, so that a reader (the
    watcher, the author's editor) never sees half a file; the file keeps its permissions."""
    temporary = path.with_name(f".{path.name}.tuichat-save")
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


# -- what a source's frontmatter says -----------------------------------------------------------
def function_meta(frontmatter: dict[str, str]) -> dict[str, Any]:
    """The `meta` Open WebUI stores for a source: its description and the whole frontmatter."""
    return {"description": frontmatter.get("description"), "manifest": frontmatter}


@dataclass(frozen=True)
class Manifest:
    """What a stored function's frontmatter says about it, read from its `meta`."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""

    @classmethod
    def of(cls, row: FunctionRow) -> Manifest:
        meta = row.meta if isinstance(row.meta, dict) else {}
        manifest = meta.get("manifest")
        fields = manifest if isinstance(manifest, dict) else {}
        return cls(fields, str(meta.get("description") or fields.get("description") or ""))

    def _text(self, key: str) -> str:
        return str(self.fields.get(key) or "").strip()

    @property
    def version(self) -> str:
        return self._text("version")

    @property
    def author(self) -> str:
        return self._text("author")

    @property
    def requirements(self) -> str:
        """The `requirements` entry as written (comma-separated), or ""."""
        return self._text("requirements")


def frontmatter_line(text: str, key: str) -> int | None:
    """The 0-based line of the frontmatter's `key:` entry (e.g. "requirements"), if there is one."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != '"""':
        return None
    for index, line in enumerate(lines[1:], start=1):
        if '"""' in line:
            return None
        if line.strip().lower().startswith(f"{key.lower()}:"):
            return index
    return None


# -- Open WebUI's functions export ------------------------------------------------------------


def parse_functions_export(text: str, where: str) -> list[Any]:
    """The function objects in an export's text; says plainly when it is not one."""
    data = parse_json(text, where)
    if not isinstance(data, list):
        kind = _json_kind(data)
        raise TransferError(
            f"{where} is not an Open WebUI functions export: that is a JSON list of functions, "
            f"and this file holds a JSON {kind}"
        )
    return data


def parse_json(text: str, where: str) -> Any:
    """JSON text, or a TransferError that says where it is wrong; nesting too deep for Python's
    parser is refused with a message, not a RecursionError. NaN and Infinity (not JSON, though
    Python reads them) are read as floats: the checks that follow name the field holding one."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise TransferError(f"{where} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise TransferError(
            f"{where} nests lists or objects too deeply to read (about 1,000 levels or more); "
            "an Open WebUI export nests a few levels. Check that this is the right file."
        ) from None


def read_functions_export(path: Path) -> list[Any]:
    return parse_functions_export(decode_source(read_bytes(path), str(path)), str(path))


def export_text(functions: list[dict[str, Any]]) -> str:
    return json.dumps(functions, ensure_ascii=False, indent=2) + "\n"


async def export_functions(store: Store) -> list[dict[str, Any]]:
    """Every function as Open WebUI's Functions page exports them (valves are not included)."""
    return [{key: getattr(row, key) for key in EXPORT_FIELDS} for row in await store.functions.list()]


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "list", dict: "object"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=True) if not isinstance(value, (dict, list)) else _json_kind(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
                position, None, None, f"is a JSON {_json_kind(item)}, not a function",
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
            problem("id", f"is a {_json_kind(raw_id)} ({_shown(raw_id)}), not a string", "write the id in double quotes")
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
            problem("content", f"is a {_json_kind(content)}, not a string", "it must hold the Python source as one string")
        elif not content.strip():
            problem("content", "is empty", "a pipe needs a `class Pipe` with a `pipe` method; add its source or remove the item")
        for name, (types, words, fix) in FIELD_TYPES.items():
            value = item.get(name)
            if value is None:
                continue
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                problem(name, f"is a {_json_kind(value)} ({_shown(value)}), not {words}", fix)
            elif name == "type" and value not in TYPES:
                problem(name, f"is {_shown(value)}, not one of {', '.join(TYPES)}", fix)
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


# -- the examples -----------------------------------------------------------------------------
def example_source(function_id: str) -> str:
    return resources.files("tuichat.examples").joinpath(f"{function_id}.py").read_text(encoding="utf-8")


async def seed_examples(store: Store) -> list[str]:
    """Give an empty store the example pipes, once; a user who deletes them keeps that."""
    if await store.settings.get(EXAMPLES_SEEDED):
        return []
    seeded: list[str] = []
    # Checked again inside the write lock: two first runs may race to seed.
    async with store.transaction():
        if await store.settings.get(EXAMPLES_SEEDED):
            return []
        if await store.functions.count() == 0:
            for fid in EXAMPLE_IDS:
                content = replace_imports(example_source(fid))
                frontmatter = extract_frontmatter(content)
                await store.functions.insert(
                    id=fid,
                    name=frontmatter.get("title") or fid,
                    type="pipe",
                    content=content,
                    meta=function_meta(frontmatter),
                    is_active=True,
                )
                seeded.append(fid)
        await store.settings.set(EXAMPLES_SEEDED, True)
    return seeded
