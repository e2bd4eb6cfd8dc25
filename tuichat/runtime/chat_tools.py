"""The tools a chat can select (F10 in the app): every stored tool, as Open WebUI's message
box lists them under "+", and the ones the model has attached (`meta.toolIds`), which are
selected for every chat of that model and so cannot be switched off per chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuichat.store import Store


@dataclass(frozen=True)
class ToolChoice:
    """A stored tool as the chat's tools list shows it."""

    id: str
    name: str
    description: str
    from_model: bool  # attached to the model: always selected
    problem: str | None = None  # why it would fail the turn (disabled, did not load)


async def tool_choices(store: Store, model_id: str | None, selected: list[str]) -> list[ToolChoice]:
    """Every stored tool, and any id the chat selected that is no longer stored (so that it
    can be seen and switched off: Open WebUI skips an unknown id, the turn still runs)."""
    settings = await store.model_settings.get(model_id) if model_id else None
    attached = set(settings.tool_ids if settings is not None else [])
    rows = await store.functions.list(type="tool")
    choices = [
        ToolChoice(row.id, row.name, str((row.meta or {}).get("description") or ""), row.id in attached,
                   None if row.is_active else (f"off: {row.load_error}" if row.load_error else "off"))
        for row in rows
    ]  # fmt: skip
    known = {row.id for row in rows}
    choices += [ToolChoice(tid, tid, "", tid in attached, "not stored") for tid in selected if tid not in known]
    return choices
