"""What the pipes screen shows, read in one go: every stored function, the models each offers,
the errors listing them gave, and how their linked files last reloaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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

    @classmethod
    async def read(cls, library: FunctionLibrary, reports: dict[str, WatchReport]) -> Catalog:
        listing = await library.host.list_models()
        rows = await library.store.functions.list()  # after listing: a failed load switches one off
        catalog = cls(rows, reports=reports)
        for model in listing.models:
            catalog.models.setdefault(pipe_id_of(str(model.get("id", ""))), []).append(model)
        catalog.listing_errors = {fid: error for fid, error in listing.errors.items() if error != "disabled"}
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
        """`id` for a plain pipe, `3: .a .b .c` for a manifold."""
        models = self.models.get(row.id, [])
        if not models:
            return EMPTY
        if len(models) == 1 and models[0]["id"] == row.id:
            return row.id
        subs = (sub_id_of(str(model["id"])) for model in models)
        return f"{len(models)}: " + " ".join("." + sub for sub in subs if sub is not None)

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
