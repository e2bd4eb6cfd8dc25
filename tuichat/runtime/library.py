"""Adding, changing and removing stored functions, with Open WebUI's rules.

A function is loaded before it is stored, so a broken file is refused with its
error and nothing stored changes (Open WebUI answers HTTP 400 the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from tuichat.runtime.errors import FunctionLoadError, InvalidValves, RuntimeErrorBase
from tuichat.runtime.frontmatter import extract_frontmatter, replace_imports
from tuichat.runtime.host import PipeHost
from tuichat.runtime.loader import load_function
from tuichat.runtime.valves import validate_for_storage, valves_class
from tuichat.store import FunctionRow, function_id_from_filename, validate_function_id

EXAMPLES_SEEDED = "examples_seeded"
EXAMPLE_IDS = ("echo", "manifold", "events", "ask", "markdown")


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
    ) -> NewFunction:
        """Validate, load and store a function; the stored text is the rewritten one."""
        fid = validate_function_id(function_id) if function_id else function_id_from_filename(stem)
        existing = await self.store.functions.get(fid)
        if existing is not None and not replace:
            raise FunctionExists(
                f"a function with id '{fid}' is already stored. "
                "Pass --replace to update it, or --id to store this one under another id."
            )
        content = replace_imports(content)
        loaded = await load_function(fid, content)  # raises FunctionLoadError; nothing is stored
        frontmatter = extract_frontmatter(content)
        name = name or frontmatter.get("title") or fid
        fields = {
            "name": name,
            "type": loaded.type,
            "content": content,
            "meta": function_meta(frontmatter),
            "is_active": True,
            "load_error": None,
        }
        if existing is None:
            row = await self.store.functions.insert(id=fid, **fields)
        else:
            row = await self.store.functions.update(fid, **fields)
        self.host.cache.forget(fid)
        return NewFunction(row, existing is not None)

    async def remove(self, function_id: str) -> None:
        await self.get(function_id)
        await self.store.functions.delete(function_id)
        self.host.cache.forget(function_id)

    async def enable(self, function_id: str) -> FunctionRow:
        """Load first: a function that still fails stays disabled, with its error."""
        row = await self.get(function_id)
        try:
            await load_function(row.id, row.content)
        except FunctionLoadError as error:
            await self.store.functions.update(row.id, is_active=False, load_error=f"{error}\n\n{error.detail}".rstrip())
            raise
        return await self.store.functions.update(row.id, is_active=True, load_error=None)

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


def example_source(function_id: str) -> str:
    return resources.files("tuichat.examples").joinpath(f"{function_id}.py").read_text(encoding="utf-8")
