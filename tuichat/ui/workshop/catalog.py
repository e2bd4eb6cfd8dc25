"""What the pipes screen shows, read in one go: every stored function, the models each offers,
the errors listing them gave, how their linked files last reloaded, and for filters their
priority and toggle (read by the pipe host) and the models whose settings attach them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuichat.runtime.filter_facts import FilterFacts, read_facts
from tuichat.runtime.reply.present import first_line, pipe_id_of, sub_id_of

if TYPE_CHECKING:
    from tuichat.runtime.library import FunctionLibrary
    from tuichat.runtime.watch import WatchReport
    from tuichat.store import FunctionRow, FunctionVersion

EMPTY = "—"


@dataclass
class Catalog:
    rows: list[FunctionRow] = field(default_factory=list)
    models: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # function id -> its models
    listing_errors: dict[str, str] = field(default_factory=dict)
    watched_versions: dict[str, FunctionVersion] = field(default_factory=dict)  # the last a linked file made
    reports: dict[str, WatchReport] = field(default_factory=dict)  # the last live-reload report, per function
    facts: dict[str, FilterFacts] = field(default_factory=dict)  # filter id -> priority, toggle
    attached: dict[str, list[str]] = field(default_factory=dict)  # filter or tool id -> models whose row names it

    @classmethod
    async def read(cls, library: FunctionLibrary, reports: dict[str, WatchReport]) -> Catalog:
        listing = await library.host.list_models()
        rows = await library.store.functions.list()  # after listing: a failed load switches one off
        catalog = cls(rows, reports=reports)
        for model in listing.models:
            catalog.models.setdefault(pipe_id_of(str(model.get("id", ""))), []).append(model)
        catalog.listing_errors = {fid: error for fid, error in listing.errors.items() if error != "disabled"}
        catalog.facts = await read_facts(library.host, rows)
        for settings in await library.store.model_settings.list():
            for fid in [*settings.filter_ids, *settings.tool_ids]:
                catalog.attached.setdefault(fid, []).append(settings.id)
        for row in rows:
            if row.linked_path:
                versions = await library.store.functions.versions(row.id)
                watched = next((v for v in versions if v.origin == "watched"), None)
                if watched is not None:
                    catalog.watched_versions[row.id] = watched
        return catalog

    @property
    def ids(self) -> set[str]:
        return {row.id for row in self.rows}

    def row(self, function_id: str | None) -> FunctionRow | None:
        return next((row for row in self.rows if row.id == function_id), None)

    @property
    def summary(self) -> str:
        count = sum(len(models) for models in self.models.values())
        return f"{len(self.rows)} function{'s' if len(self.rows) != 1 else ''} · {count} model{'s' if count != 1 else ''}"

    def error(self, row: FunctionRow) -> str | None:
        """Why it does not load or list its models, if it does not."""
        return row.load_error or self.listing_errors.get(row.id)

    def reload_failed(self, row: FunctionRow) -> bool:
        report, version = self.reports.get(row.id), self.watched_versions.get(row.id)
        if report is not None:
            return not report.ok
        return version is not None and version.error is not None

    def status(self, row: FunctionRow) -> str:
        """One word or two for the table."""
        error = self.error(row)
        if error and error.startswith("requirements not installed"):
            return "needs pip"
        if error:
            return "error"
        if row.linked_path:
            return "reload err" if self.reload_failed(row) else "linked"
        return "ok" if row.is_active else "off"

    def models_cell(self, row: FunctionRow) -> str:
        """`id` for a plain pipe, `3: .a .b .c` for a manifold; for a filter where it runs:
        `global toggle p5`, `2 models p0`."""
        if row.type == "filter":
            return self.filter_cell(row)
        if row.type == "tool":
            attached = self.attached.get(row.id, [])
            return f"{len(attached)} model{'s' if len(attached) != 1 else ''}"
        models = self.models.get(row.id, [])
        if not models:
            return EMPTY
        if len(models) == 1 and models[0]["id"] == row.id:
            return row.id
        subs = (sub_id_of(str(model["id"])) for model in models)
        return f"{len(models)}: " + " ".join("." + sub for sub in subs if sub is not None)

    def filter_cell(self, row: FunctionRow) -> str:
        facts, attached = self.facts.get(row.id), self.attached.get(row.id, [])
        where = "global" if row.is_global else f"{len(attached)} model{'s' if len(attached) != 1 else ''}"
        toggle = " toggle" if facts is not None and facts.toggle else ""
        return f"{where}{toggle} p{facts.priority_text if facts is not None else '?'}"

    def filter_text(self, row: FunctionRow) -> str:
        """The detail panel's line on a filter: where it runs, toggle, priority."""
        facts, attached = self.facts.get(row.id), self.attached.get(row.id, [])
        where = "global: runs for every model" if row.is_global else "not global"
        if attached:
            where += f"; attached to {', '.join(attached)}"
        elif not row.is_global:
            where += " and attached to no model (a: global; m on a pipe attaches it)"
        if facts is None:
            return f"Filter:  {where}; priority unknown (it does not load)"
        toggle = "toggle: a chat switches it on (F10)" if facts.toggle else "always runs where it applies"
        return f"Filter:  {where}; {toggle}; priority {facts.priority_text}"

    def tool_text(self, row: FunctionRow) -> str:
        """The detail panel's line on a tool: the models it is attached to, and how a chat selects it."""
        attached = self.attached.get(row.id, [])
        where = f"attached to {', '.join(attached)}" if attached else "attached to no model (m on a pipe attaches it)"
        return f"Tool:    {where}; a chat selects it with F10"

    def models_text(self, row: FunctionRow) -> str:
        models = self.models.get(row.id, [])
        if models:
            return ", ".join(
                str(m["id"]) if str(m.get("name") or m["id"]) == str(m["id"]) else f"{m['id']} ({m.get('name')})" for m in models
            )
        if row.type != "pipe":
            return f"none (a {row.type} works on other models' requests and replies)"
        if not row.is_active:
            return "none while it is off (space switches it on)"
        return "none listed"

    def same_error(self, row: FunctionRow, error: str) -> bool:
        return first_line(error) == first_line(self.error(row))
