"""Which filters run on a turn, and in which order (Open WebUI 0.12.4 utils/filter.py
`resolve_filter_pipeline`).

The active filters that are global, plus the active ones the model's settings row names in
`meta.filterIds`; a filter whose instance has a truthy `toggle` only when the request's
`filter_ids` names it. Sorted by (priority, id), priority being `Valves(**saved).priority`
(0 without a Valves class or a priority field); the same order for every hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuichat.runtime.valves import apply_valves
from tuichat.store.functions import FunctionRow


@dataclass
class Filter:
    """One filter of the turn: its row, loaded instance and the local user's valves."""

    row: FunctionRow
    instance: Any
    user_valves: dict[str, Any]
    # Per hook: the extras its signature declares and whether the body goes by position,
    # worked out once a turn (inspect.signature per stream chunk cost most of its time).
    plans: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.row.id

    def has(self, hook: str) -> bool:
        return callable(getattr(self.instance, hook, None))

    def set_valves(self) -> None:
        """`self.valves = Valves(**saved)` before every hook call, as Open WebUI does."""
        apply_valves(self.instance, self.row.valves)


def candidate_rows(rows: list[FunctionRow], attached: list[str]) -> list[FunctionRow]:
    """Active filters that are global or attached to the model (loading decides the rest)."""
    return [row for row in rows if row.type == "filter" and row.is_active and (row.is_global or row.id in attached)]


def priority_of(instance: Any, saved: dict[str, Any]) -> Any:
    valves_class = getattr(instance, "Valves", None)
    if valves_class is None:
        return 0
    try:
        return getattr(valves_class(**(saved or {})), "priority", 0) or 0
    except Exception:  # invalid saved valves: 0, as Open WebUI's `get_priority`
        return 0


def is_toggle(instance: Any) -> bool:
    return bool(getattr(instance, "toggle", False))


def select(filters: list[Filter], filter_ids: list[str]) -> list[Filter]:
    """The filters that run, in Open WebUI's order."""
    chosen = [f for f in filters if not is_toggle(f.instance) or f.id in filter_ids]
    return sorted(chosen, key=lambda f: (_sortable(priority_of(f.instance, f.row.valves)), f.id))


def _sortable(priority: Any) -> float:
    try:
        return float(priority)
    except (TypeError, ValueError):
        return 0.0


def toggle_entries(filters: list[Filter]) -> list[dict[str, Any]]:
    """The model's `filters` list: its toggle filters as the model list shows them."""
    return [
        {
            "id": f.id,
            "name": f.row.name,
            "description": (f.row.meta or {}).get("description"),
            "icon": getattr(f.instance, "icon", None),
            "has_user_valves": hasattr(f.instance, "UserValves"),
        }
        for f in filters
        if is_toggle(f.instance)
    ]
