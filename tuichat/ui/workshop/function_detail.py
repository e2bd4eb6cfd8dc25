"""The panel under the functions table: the highlighted function in full.

A title line with version and author, the description, the models it offers, its linked file
and the last live-reload report, its requirements, and its load or install error; above them
the error of the last action that failed, until the next one.
"""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tuichat.runtime.reply.present import first_line
from tuichat.runtime.transfer import Manifest
from tuichat.runtime.untrusted import neutralise
from tuichat.store import FunctionRow
from tuichat.ui.workshop.catalog import Catalog

FIELDS = ("detail-title", "detail-description", "detail-models", "detail-file", "detail-report", "detail-needs", "detail-error")


def clock(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%H:%M:%S")


def report_text(row: FunctionRow, catalog: Catalog) -> tuple[str, str]:
    """The last reload of a linked file, and the class to show it with."""
    report = catalog.reports.get(row.id)
    if report is not None:
        where = f" (line {report.line})" if report.line and f"line {report.line}" not in report.message else ""
        text = f"Reload:  {clock(report.at)} {'ok' if report.ok else 'failed'}{where}: {report.message}"
        if not report.ok and report.detail:
            text += "\n" + report.detail.rstrip()
        return text, "-ok" if report.ok else "-error"
    version = catalog.watched_versions.get(row.id)
    if row.linked_path and version is not None:
        if version.error:
            why = "the error below" if catalog.same_error(row, version.error) else first_line(version.error)
            return f"Reload:  {clock(version.created_at)} refused: {why}", "-error"
        return f"Reload:  {clock(version.created_at)} ok: saved from the file", "-ok"
    return "", ""


class FunctionDetail(VerticalScroll):
    """Everything about one function (`show`), and the last action's error (`show_problem`)."""

    BORDER_TITLE = "Details · v/u valves, a global, m model, d duplicate, I JSON, r refresh"

    def compose(self) -> ComposeResult:
        yield Static("", id="detail-problem", classes="-error -hidden", markup=False)
        yield Static("Loading functions…", id="detail-title", markup=False)
        for widget_id in FIELDS[1:]:
            yield Static("", id=widget_id, classes="-error" if widget_id == "detail-error" else "", markup=False)

    def _set(self, widget_id: str, text: str, *classes: str) -> None:
        widget = self.query_one(f"#{widget_id}", Static)
        widget.update(neutralise(text))  # names, frontmatter, errors: the pipe's words
        widget.set_class(not text, "-hidden")
        for name in ("-error", "-warning", "-ok"):
            widget.set_class(name in classes, name)

    def show_problem(self, message: str | None) -> None:
        self._set("detail-problem", message or "", "-error")

    def show(self, row: FunctionRow | None, catalog: Catalog, *, watched: bool) -> None:
        """`row` in full (`watched`: its linked file is being watched); None: there are none."""
        if row is None:
            self._set("detail-title", "No functions yet. Press n to create one, i to import a .py file.")
            for widget_id in FIELDS[1:]:
                self._set(widget_id, "")
            return
        manifest = Manifest.of(row)
        title = [row.name, row.id, row.type, "on" if row.is_active else "off"]
        if manifest.version:
            title.append(f"v{manifest.version}")
        if manifest.author:
            title.append(f"by {manifest.author}")
        self._set("detail-title", "  ·  ".join(title))
        self._set("detail-description", manifest.description)
        models = f"Models:  {catalog.models_text(row)}"
        self._set("detail-models", catalog.filter_text(row) if row.type == "filter" else catalog.tool_text(row) if row.type == "tool" else models)
        self._set("detail-file", self._file_text(row, watched))
        self._set("detail-report", *report_text(row, catalog))
        self._set("detail-needs", f"Needs:   {manifest.requirements}" if manifest.requirements else "")
        error = catalog.error(row)
        self._set("detail-error", f"Error:   {error.strip()}" if error else "", "-error")

    @staticmethod
    def _file_text(row: FunctionRow, watched: bool) -> str:
        if not row.linked_path:
            return "File:    not linked (l links it to a file that is then live-reloaded)"
        from tuichat.runtime.watch import describe_path

        return f"File:    {describe_path(row.linked_path)}  ({'watching for changes' if watched else 'not watched'})"
