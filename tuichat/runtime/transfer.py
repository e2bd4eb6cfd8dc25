"""Functions in and out of tuichat, in Open WebUI's formats.

A pipe's .py file (read with errors that say what is wrong and what to do), the `meta` its
frontmatter is stored as and the manifest read back from it, Open WebUI's functions export
JSON (read and exported; importing it is `tuichat.runtime.importing`), and the example pipes a new store is seeded with. The
TUI and the CLI both use these, so a file is judged the same way wherever it is opened.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.runtime.loading.frontmatter import extract_frontmatter, replace_imports
from tuichat.store import FunctionRow, Store

EXAMPLES_SEEDED = "examples_seeded"
EXAMPLE_IDS = ("echo", "manifold", "events", "ask", "markdown", "local")
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


def write_private(path: Path, text: str, *, advice: str = "Pick another path.") -> None:
    """`write_text` for a file only its owner may read (0600, also when it existed): exports
    hold valves, which hold API keys."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(descriptor, 0o600)
            file.write(text)
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
        kind = json_kind(data)
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
    # Tools are not functions in Open WebUI (they have a store and an export of their own).
    return [{key: getattr(row, key) for key in EXPORT_FIELDS} for row in await store.functions.list() if row.type != "tool"]


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return {str: "string", list: "list", dict: "object"}.get(type(value), type(value).__name__)


def shown_value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, allow_nan=True) if not isinstance(value, (dict, list)) else json_kind(value)
    return text if len(text) <= 40 else text[:37] + "..."


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
