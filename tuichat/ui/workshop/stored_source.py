"""The pipe editor kept in step with its stored function (`FollowsStoredSource`, a mixin of
`EditorScreen` as `unsaved_changes.SavesOnQuit` is).

The source is read when the editor opens: one too large to edit here is refused, one too large
to highlight is shown as plain text, and a function stored with an error shows it at once. A
change made elsewhere (a watched file, another screen) reloads an editor with no unsaved
changes; with unsaved changes the editor keeps them and says so, once per change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.message import Message

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.store import FunctionRow
from tuichat.ui.workshop.source_size import HIGHLIGHT_LIMIT, MAX_EDIT_SIZE, describe_size, too_large

if TYPE_CHECKING:
    from tuichat.runtime.watch import WatchReport
    from tuichat.ui.workshop.editor_screen import EditorScreen


class StoredSourceRead(Message):
    """The stored function, read when the editor opens (`opening`) or after it changed elsewhere."""

    def __init__(self, row: FunctionRow, *, opening: bool = False, from_file: str | None = None) -> None:
        super().__init__()
        self.row = row
        self.opening = opening
        self.from_file = from_file


class FollowsStoredSource:
    """Reads the stored function into the editor, and follows its changes made elsewhere."""

    _noticed: str | None = None  # a change elsewhere already announced

    @work(group="editor-read", exclusive=True, exit_on_error=False, description="Reading the function failed")
    async def _read_stored(self: EditorScreen, *, opening: bool = False, from_file: str | None = None) -> None:
        library = await self.library()
        try:
            row = await library.get(self.function_id)
        except RuntimeErrorBase as error:
            if opening:
                self.notify(str(error), title="Cannot edit", severity="error")
                self._leave()
            return  # deleted meanwhile: the editor keeps what it has
        self.post_message(StoredSourceRead(row, opening=opening, from_file=from_file))
        latest = await library.store.functions.latest_version(self.function_id) if opening else None
        if latest is not None and latest.origin == "unsaved":
            self.notify(  # the app was ended (SIGHUP, SIGTERM) with these edits unsaved
                f"Edits to '{self.function_id}' left unsaved when tuichat was ended are in its history: "
                "F4, then Enter loads them into the editor.",
                title="Unsaved edits kept", severity="warning", timeout=15,
            )

    def on_stored_source_read(self: EditorScreen, event: StoredSourceRead) -> None:
        if self.leaving:
            return
        row = event.row
        if event.opening and len(row.content) > MAX_EDIT_SIZE:
            self.notify(too_large(row), title="Too large to edit here", severity="error", timeout=20)
            self._leave()
            return
        if event.opening:
            self.saved_text = row.content
            if len(row.content) > HIGHLIGHT_LIMIT and self.highlighting:
                self.editor.language = None  # plain text: highlighting re-reads the whole source on every key
                self.highlighting = False
                self.plain_reason = f"plain text: no highlighting above {describe_size(HIGHLIGHT_LIMIT)}"
            self.editor.load_text(row.content)
            self.editor.read_only = False
            self.editor.focus()
            self.row = row
            if row.load_error:
                message, _, detail = row.load_error.partition("\n\n")
                self._show_error("Stored with an error · F2 tries it again", message, detail, warning=True)
            self.app.watch_reported.subscribe(self, self._file_reported)
            self.app.functions_changed.subscribe(self, self._functions_changed)
            return
        if self.busy or row.content == self.saved_text:
            self.row = row
            return
        where = f" from {event.from_file}" if event.from_file else ""
        self.row = row
        if self.modified:
            if row.content != self._noticed:  # the watcher and functions_changed report the same change
                self._noticed = row.content
                self.notify(
                    f"'{self.function_id}' was changed{where}. Your unsaved edits are kept here; "
                    "F2 would store them over it (F4 History has both).",
                    title="Changed elsewhere", severity="warning", timeout=12,
                )
            return
        self.saved_text = row.content
        self.editor.replace_all(row.content)
        self.error_shown = False
        self.notify(f"Reloaded '{self.function_id}'{where}.", timeout=4)

    def _file_reported(self: EditorScreen, report: WatchReport) -> None:
        if report.function_id == self.function_id and not self.busy:
            self._read_stored(from_file=report.path)

    def _functions_changed(self: EditorScreen, function_id: str) -> None:
        if function_id == self.function_id and not self.busy:
            self._read_stored()
