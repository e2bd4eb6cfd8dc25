"""The pipe editor: edit a stored function's source, save it, and see at once why a save failed.

`EditorScreen(function_id)` is a full screen (pushed by the pipes screen). The text is a
`CodeEditor` (Python highlighting when tree-sitter has it, plain text otherwise) with line
numbers, indentation and TextArea's own undo/redo (ctrl+z / ctrl+y).

Saving (F2) runs the save workflow (`workflows.save`): the source is compiled and loaded first,
so a broken one is refused with its error and the last good version keeps serving. A refused
save is still kept as a version (History, F4), the text stays exactly as typed, the error panel
under the editor shows the message (F8 shows the traceback), and the cursor goes to the line
that failed. Missing packages are offered for install as everywhere in the workshop.

A watched file (`tuichat --watch`) that changes on disk reloads an editor with no unsaved
changes; with unsaved changes the editor keeps them and says so (`stored_source.py`).

Large sources (source_size.py): above HIGHLIGHT_LIMIT the text is plain (no highlighting),
and above MAX_EDIT_SIZE the editor does not open, saying how to edit it in another editor with
`tuichat --watch`; `CodeEditor` keeps typing fast in between (see code_editor.py).

Keys: F2 save, F4 history, ctrl+f find (Enter next match, wrapping; Escape closes the bar),
F3 next match, F8 traceback, Escape close (asks first when there are unsaved changes). Quitting
the app (ctrl+q) with unsaved changes asks too: save and quit, quit without saving, or stay
(`unsaved_changes.ask_before_quit`).
TextArea keeps its own keys (ctrl+w deletes a word, F6 selects the line, F7 all); ctrl+s is
not used, being XOFF on many terminals.
"""

from __future__ import annotations

from typing import ClassVar

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import var
from textual.widgets import Header, Input, Static, TextArea
from textual.widgets.text_area import SyntaxAwareDocument

from tuichat.runtime.untrusted import neutralise
from tuichat.store import FunctionRow, FunctionVersion
from tuichat.ui.widgets.footer import Footer
from tuichat.ui.workshop import workflows
from tuichat.ui.workshop.base import WorkshopScreen
from tuichat.ui.workshop.code_editor import CodeEditor, ErrorPanel, FindBar, make_code_editor
from tuichat.ui.workshop.history_screen import HistoryChoice, HistoryScreen
from tuichat.ui.workshop.messages import FunctionSaved, SaveRefused
from tuichat.ui.workshop.stored_source import FollowsStoredSource
from tuichat.ui.workshop.unsaved_changes import SavesOnQuit, UnsavedChangesScreen

NOT_SAVED = "✗ Not saved{where} · the last good version keeps serving"


class EditorScreen(FollowsStoredSource, SavesOnQuit, WorkshopScreen[None]):
    """Edit, save and restore one stored function's source."""

    CSS_PATH = "editor_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "save", "Save", id="editor.save"),
        Binding("f4", "history", "History", id="editor.history"),
        Binding("ctrl+f", "find", "Find", id="editor.find"),
        Binding("f3", "find_next", "Next match", id="editor.find_next", show=False),
        Binding("f8", "traceback", "Traceback", id="editor.traceback", show=False),
        Binding("escape", "close", "Close", id="editor.close"),
    ]
    AUTO_FOCUS = "#code"

    row: var[FunctionRow | None] = var(None, bindings=True, always_update=True)
    """The stored function, once loaded."""
    modified: var[bool] = var(False, bindings=True)
    """The text differs from what is stored."""
    error_shown: var[bool] = var(False, bindings=True, always_update=True)
    """The error panel is up (a refused save, or a function stored with an error)."""
    find_open: var[bool] = var(False, bindings=True)
    cursor: var[tuple[int, int]] = var((0, 0))

    editor = getters.query_one("#code", CodeEditor)
    find_bar = getters.query_one(FindBar)
    error_panel = getters.query_one(ErrorPanel)

    def __init__(self, function_id: str) -> None:
        super().__init__()
        self.function_id = function_id
        self.saved_text: str | None = None  # what is stored; the editor is modified when it differs
        self.saves_finished = 0  # save attempts that have ended (stored, refused or failed)
        self.highlighting = False
        self.plain_reason = "plain text (no tree-sitter Python)"
        self._leaving = False

    def compose(self) -> ComposeResult:
        yield Header()
        editor = make_code_editor(id="code", read_only=True)
        # Without tree-sitter at all, TextArea keeps language="python" but parses nothing.
        self.highlighting = isinstance(editor.document, SyntaxAwareDocument)
        yield editor
        yield FindBar()
        yield ErrorPanel()
        yield Static("Loading…", id="status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Edit {self.function_id}"
        self._read_stored(opening=True)

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        self.app.watch_reported.unsubscribe(self)
        self.app.functions_changed.unsubscribe(self)

    @property
    def leaving(self) -> bool:
        """True once the editor is leaving: late results (a reload, a save) change nothing here."""
        return self._leaving or not self.is_attached

    def _leave(self) -> None:
        if self._leaving:
            return
        self._leaving = True
        self._unsubscribe()
        if not self.is_attached:
            return
        if not self.is_active:
            # A dialog (the command palette, say) is above: `dismiss` pops the top screen.
            self.pop_until_active()
        self.dismiss(None)

    # -- title, status line and what the keys offer -------------------------------------------
    @on(TextArea.Changed, "#code")
    def _text_changed(self) -> None:
        self._update_modified()
        # A refused save's error is about text that is gone once its edits are undone.
        if not self.modified and self.error_shown and not self.error_panel.has_class("-warning"):
            self.error_shown = False

    @on(TextArea.SelectionChanged, "#code")
    def _cursor_moved(self) -> None:
        self.cursor = self.editor.cursor_location

    def _update_modified(self) -> None:
        self.modified = self.saved_text is not None and self.editor.text != self.saved_text

    def watch_modified(self, modified: bool) -> None:
        self.sub_title = "● modified" if modified else ""
        self._show_status()

    def watch_row(self, row: FunctionRow | None) -> None:
        name = f" · {neutralise(row.name)}" if row is not None and row.name != row.id else ""
        self.title = f"Edit {self.function_id}{name}"
        self._show_status()

    def watch_busy(self) -> None:
        self._show_status()

    def watch_cursor(self) -> None:
        self._show_status()

    def _show_status(self) -> None:
        row = self.row
        if row is None or not self.is_mounted:
            return
        line, column = self.cursor
        parts = [f"Ln {line + 1}, Col {column + 1}", "saving…" if self.busy else "● modified" if self.modified else "saved"]
        if not row.is_active:
            parts.append("inactive")
        parts.append("Python" if self.highlighting else self.plain_reason)
        if row.linked_path:
            from tuichat.runtime.watch import describe_path

            parts.append(f"linked {describe_path(row.linked_path)}")
        self.query_one("#status", Static).update("  │  ".join(parts))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("save", "history", "find"):
            if self.row is None:
                return False
            return None if action == "save" and self.busy else True
        if action == "find_next":
            return self.find_open
        if action == "traceback":
            return self.error_shown and self.error_panel.has_traceback
        return True

    # -- the error panel ----------------------------------------------------------------------
    def _show_error(self, title: str, message: str, detail: str = "", *, warning: bool = False) -> None:
        self.error_panel.fill(title, message, detail, warning=warning)
        self.error_shown = True  # always updates: whether F8 applies depends on the detail too

    def watch_error_shown(self, shown: bool) -> None:
        self.error_panel.set_class(shown, "-shown")

    @property
    def error_text(self) -> str:
        """The error panel's title and message as shown (plain text)."""
        return self.error_panel.text

    def action_traceback(self) -> None:
        """F8: show the traceback and focus it (arrows scroll); again to hide it."""
        if not self.error_panel.toggle_traceback():
            self.editor.focus()

    # -- saving -------------------------------------------------------------------------------
    def action_save(self) -> None:
        self._save(self.editor.text)

    def _save(self, text: str, *, close_after: bool = False, version: FunctionVersion | None = None) -> None:
        fid = self.function_id
        self.run_workflow("Saving failed", lambda: workflows.save(self, fid, text, version, close_after=close_after))

    @on(SaveRefused)
    def _refused(self, event: SaveRefused) -> None:
        """The text stays as typed; the stored source keeps serving."""
        if self.leaving:
            return
        where = f" at line {event.line}" if event.line else ""
        self._show_error(NOT_SAVED.format(where=where), str(event.error), event.detail)
        if event.line:
            self.editor.go_to(event.line, event.column)
        self.app.bell()
        self.not_quitting()

    @on(FunctionSaved)
    def _saved(self, event: FunctionSaved) -> None:
        if self.leaving:
            return
        saved, fid = event.saved, self.function_id
        if saved.row.content != event.text:
            # The library rewrote it (Open WebUI's import rewrites): show what is stored.
            self.editor.replace_all(saved.row.content)
        self.saved_text = saved.row.content
        self.row = saved.row
        self._update_modified()
        if not saved.changed:
            self.error_shown = False
            self.notify(f"'{fid}' already has this source; nothing to save.", timeout=4)
        elif saved.problem:
            self._show_error("Saved, but off until this is fixed", saved.problem, warning=True)
            self.notify(f"Saved '{fid}', but it is inactive: {saved.problem}", severity="warning", timeout=10)
        else:
            self.error_shown = False
            installed = f" (installed {', '.join(saved.installed)})" if saved.installed else ""
            what = f"Restored version #{event.version.number} of" if event.version is not None else "Saved and reloaded"
            self.notify(f"{what} '{fid}'{installed}", timeout=4)
        if saved.file_error:
            self.notify(saved.file_error, title="Linked file not written", severity="warning", timeout=12)
        elif saved.wrote:
            from tuichat.runtime.watch import describe_path

            self.notify(f"Wrote {describe_path(saved.wrote)}", timeout=4)
        if event.close_after and not self.modified:
            self._leave()

    def show_failure(self, message: str, error: BaseException) -> None:
        """An unexpected error while saving: shown with its traceback; the text is kept."""
        import traceback

        self._show_error(NOT_SAVED.format(where=""), message, "".join(traceback.format_exception(error)))

    def workflow_ended(self, ok: bool) -> None:
        self.saves_finished += 1
        self.quit_after_save(ok)

    # -- history ------------------------------------------------------------------------------
    def action_history(self) -> None:
        self.app.push_screen(HistoryScreen(self.function_id, self.editor.text), self._history_chosen)

    def _history_chosen(self, choice: HistoryChoice | None) -> None:
        if choice is None:
            return
        version = choice.version
        self.editor.replace_all(version.content)
        self.editor.focus()
        if choice.action == "load":
            self.notify(f"Loaded version #{version.number}: F2 saves it, ctrl+z undoes.", timeout=6)
        elif self.busy:
            self.notify("A save is running; press F2 when it is done.", severity="warning")
        else:
            self._save(version.content, version=version)

    # -- find ---------------------------------------------------------------------------------
    def action_find(self) -> None:
        selected = self.editor.selected_text
        self.find_bar.open(selected if selected and "\n" not in selected else None)
        self.find_open = True

    def action_close_find(self) -> None:
        self.find_open = False

    def watch_find_open(self, is_open: bool) -> None:
        if not is_open:
            self.find_bar.close()
            self.editor.focus()

    @on(Input.Changed, "#find-input")
    def _find_typed(self, event: Input.Changed) -> None:
        # Search as you type, from the start of the current match so it grows in place.
        self._find(event.value, self.editor.index_of(end=False))

    @on(Input.Submitted, "#find-input")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_find_next()

    def action_find_next(self) -> None:
        self._find(self.find_bar.query_text, self.editor.index_of(end=True))

    def _find(self, query: str, start: int) -> None:
        status = self.editor.find(query, start)
        self.find_bar.show_status(status)
        if status == "no match":
            self.app.bell()

    # -- closing ------------------------------------------------------------------------------
    def action_close(self) -> None:
        """Escape: close the find bar, leave the traceback, or close the editor (asking first)."""
        if self.find_open:
            self.find_open = False
            return
        if self.focused is not None and self.focused is not self.editor:
            self.editor.focus()
            return
        if self.busy:
            self.notify("Saving: close when it is done.", severity="warning", timeout=3)
            return
        if not self.modified:
            self._leave()
            return
        self.app.push_screen(UnsavedChangesScreen(self.function_id), self._close_answered)

    def _close_answered(self, answer: str | None) -> None:
        if answer == "discard":
            self._leave()
        elif answer == "save" and not self.busy:
            self._save(self.editor.text, close_after=True)
