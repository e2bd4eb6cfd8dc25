"""What the workshop's workflows report back to their screens, as Messages.

Each workflow returns one of these (or None when the user stopped it at a question); the
screen that ran it handles it with `@on`. A handler for `FunctionsChanged` also receives its
subclasses, so the pipes screen selects and announces every change in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from textual.message import Message

if TYPE_CHECKING:
    from tuichat.runtime.importing import ImportSummary
    from tuichat.runtime.library import Saved
    from tuichat.runtime.watch import WatchReport
    from tuichat.store import FunctionVersion

Severity = Literal["information", "warning", "error"]


class WorkflowDone(Message):
    """A workflow finished; `note` is what to tell the user (a toast), if anything."""

    def __init__(self, note: str | None = None, *, severity: Severity = "information", timeout: float | None = None) -> None:
        super().__init__()
        self.note = note
        self.severity: Severity = severity
        self.timeout = timeout


class FunctionsChanged(WorkflowDone):
    """Stored functions changed (the app was told); `function_id` is the one to show, and
    with `and_models` the note ends with the models it offers now."""

    def __init__(
        self,
        function_id: str | None,
        note: str | None = None,
        *,
        severity: Severity = "information",
        timeout: float | None = None,
        and_models: bool = False,
    ) -> None:
        super().__init__(note, severity=severity, timeout=timeout)
        self.function_id = function_id
        self.and_models = and_models


class FunctionDeleted(FunctionsChanged):
    """`deleted` is gone (with its valves and versions); nothing in particular to show."""

    def __init__(self, deleted: str, note: str) -> None:
        super().__init__(None, note)
        self.deleted = deleted


class FunctionLinked(FunctionsChanged):
    """A function was linked to a file (`report`: its first reload) or unlinked (None)."""

    def __init__(self, function_id: str, report: WatchReport | None, note: str | None = None) -> None:
        super().__init__(function_id, note)
        self.report = report


class FunctionsImported(FunctionsChanged):
    """An Open WebUI functions export was imported (all of it: a refused one raises)."""

    def __init__(self, summary: ImportSummary, path: Path) -> None:
        added = summary.added
        parts = [f"Imported {len(added)} function{'s' if len(added) != 1 else ''} from {path.name}"]
        if summary.off:
            parts.append(f"switched off until their packages are installed: {', '.join(summary.off[:12])}")
        if summary.skipped:
            skipped = summary.skipped
            parts.append(f"skipped (already stored): {', '.join(skipped[:12])}{f' and {len(skipped) - 12} more' if len(skipped) > 12 else ''}")
        note = "; ".join(parts) + "."
        severity: Severity = "warning" if summary.off else "information"
        super().__init__(added[0].row.id if added else None, note, severity=severity, timeout=8)
        self.summary = summary


class FunctionsExported(WorkflowDone):
    """Every function was written to `path` as Open WebUI's functions export."""


class FunctionSaved(WorkflowDone):
    """The editor's text (or a restored `version`) was saved: `saved` says how it went."""

    def __init__(self, saved: Saved, text: str, version: FunctionVersion | None, close_after: bool) -> None:
        super().__init__()
        self.saved = saved
        self.text = text
        self.version = version
        self.close_after = close_after


class SaveRefused(WorkflowDone):
    """A save was refused: nothing stored changed but a refused version. `line`/`column`
    (1-based) say where the error is, `detail` is its traceback."""

    def __init__(self, error: BaseException, detail: str = "", line: int | None = None, column: int | None = None) -> None:
        super().__init__()
        self.error = error
        self.detail = detail
        self.line = line
        self.column = column
