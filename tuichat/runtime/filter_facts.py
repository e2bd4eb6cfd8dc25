"""What a filter's own code says about it: its priority (`Valves(**saved).priority`, 0
without one) and whether it is a toggle (a truthy `toggle` on its instance). Only the pipe
host loads function code, so the host answers `filters.facts` (`filter_checks`); the app asks
with `read_facts` (the pipes screen's columns, a chat's toggles).

`model_toggles` is the list a chat's toggles dialog offers: the toggle filters that would run
for a model when switched on, as Open WebUI lists them in the model's `filters` entry
(active, and global or attached through the model's settings row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuichat.runtime.chatpath.filters import candidate_rows
from tuichat.runtime.hostproc.wire import HostError

if TYPE_CHECKING:
    from tuichat.runtime.host import PipeHost
    from tuichat.store.functions import FunctionRow


@dataclass(frozen=True)
class FilterFacts:
    id: str
    priority: Any = 0
    toggle: bool = False
    error: str | None = None  # it could not be loaded: the row's load error says why

    @property
    def priority_text(self) -> str:
        return "?" if self.error else str(self.priority)


async def read_facts(host: PipeHost, rows: list[FunctionRow]) -> dict[str, FilterFacts]:
    """The facts of the filters among `rows` that load (one that does not is left out)."""
    filters = [row for row in rows if row.type == "filter" and not row.load_error]
    if not filters:
        return {}
    try:
        answers = await host.filter_facts(filters)
    except HostError as error:  # a filter's Valves took the host down: say so, per filter
        return {row.id: FilterFacts(row.id, error=str(error)) for row in filters}
    return {answer["id"]: FilterFacts(**answer) for answer in answers}


@dataclass(frozen=True)
class Toggle:
    """A toggle filter a chat can switch on: its id, name and description (the filter's)."""

    id: str
    name: str
    description: str


async def model_toggles(host: PipeHost, model_id: str) -> list[Toggle]:
    """The toggle filters that run for `model_id` once a chat switches them on."""
    store = host.store
    settings = await store.model_settings.get(model_id)
    attached = settings.filter_ids if settings is not None else []
    rows = candidate_rows(await store.functions.list(type="filter"), attached)
    facts = await read_facts(host, rows)
    return [
        Toggle(row.id, row.name, str((row.meta or {}).get("description") or ""))
        for row in rows
        if facts.get(row.id) is not None and facts[row.id].toggle
    ]
