"""The pipe editor: edit a stored function's source, save it, and see at once why a save failed.

`EditorScreen(function_id)` is a full screen (pushed by the pipes screen). The text is a
`TextArea.code_editor` (Python highlighting when tree-sitter has it, plain text otherwise) with
line numbers, indentation and TextArea's own undo/redo (ctrl+z / ctrl+y).

Saving (F2, also in the command palette) goes through `FunctionLibrary.save_source`: the
source is compiled and loaded first, so a broken one is refused with its error and the last good
version keeps serving. A refused save is still kept as a version (History, F4), the text stays
exactly as typed, the error panel under the editor shows the message (F8 shows the traceback),
and the cursor goes to the line that failed. A source whose `requirements` are not installed
asks before pip runs (declined: it is stored inactive, saying why); an import the code lacks
offers to install its distribution; pip runs in the install dialog, which streams its output.

A watched file (`tuichat --watch`) that changes on disk reloads an editor with no unsaved
changes; with unsaved changes the editor keeps them and says so.

Keys: F2 save, F4 history, ctrl+f find (Enter next match, wrapping; Escape closes the bar),
F3 next match, F8 traceback, Escape close (asks first when there are unsaved changes).
TextArea keeps its own keys (ctrl+w deletes a word, F6 selects the line, F7 all); ctrl+s is
not used, being XOFF on many terminals.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Collapsible,
    Footer,
    Header,
    Input,
    Label,
    Static,
    TextArea,
)
from textual.widgets.text_area import (
    Document,
    LanguageDoesNotExist,
    Selection,
    SyntaxAwareDocument,
)

from tuichat.ui.screens.history import HistoryChoice, HistoryScreen
from tuichat.ui.screens.prompts import ConfirmScreen, DialogScreen

if TYPE_CHECKING:
    from tuichat.runtime.library import FunctionLibrary, InstallPolicy, Saved
    from tuichat.runtime.watch import WatchReport
    from tuichat.store import FunctionRow, FunctionVersion
    from tuichat.ui.app import TuichatApp

LANGUAGE = "python"


class _InstallCancelled(Exception):
    """The user stopped pip in the install dialog; nothing was saved."""


class CodeEditor(TextArea):
    """`TextArea.code_editor`, except that Escape reaches the screen, and ctrl+home/ctrl+end
    go to the start/end of the source as in other editors (TextArea has no such keys).

    In "indent" tab mode TextArea turns Escape into "focus the next widget"; here Escape closes
    the find bar or the editor (the screen's binding), the way every other tuichat screen does.
    """

    BINDINGS = [
        Binding("ctrl+home", "document_edge(False)", "Start", id="editor.start", show=False),
        Binding("ctrl+end", "document_edge(True)", "End", id="editor.end", show=False),
        Binding("ctrl+shift+home", "document_edge(False, True)", "Select to start", id="editor.select_start", show=False),
        Binding("ctrl+shift+end", "document_edge(True, True)", "Select to end", id="editor.select_end", show=False),
    ]

    def action_document_edge(self, end: bool, select: bool = False) -> None:
        self.move_cursor(self.document.end if end else (0, 0), select=select)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.prevent_default()  # skip TextArea's handler; the key bubbles to the bindings


def make_code_editor(text: str = "", **kwargs: Any) -> CodeEditor:
    """A code editor with Python highlighting, or plain text when tree-sitter lacks Python."""
    try:
        editor = CodeEditor.code_editor(text, language=LANGUAGE, theme="css", **kwargs)
    except LanguageDoesNotExist:
        editor = CodeEditor.code_editor(text, language=None, theme="css", **kwargs)
    return cast(CodeEditor, editor)


def requirements_line(text: str) -> int | None:
    """The 0-based line of the frontmatter's `requirements:` entry, if there is one."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != '"""':
        return None
    for index, line in enumerate(lines[1:], start=1):
        if '"""' in line:
            return None
        if line.strip().lower().startswith("requirements:"):
            return index
    return None


class UnsavedChangesScreen(DialogScreen[str]):
    """Close an editor with unsaved changes? Answers "save", "discard" or "cancel"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('save')", "Save", id="unsaved.save"),
        Binding("d", "answer('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,c", "answer('cancel')", "Cancel", id="unsaved.cancel"),
        Binding("left", "app.focus_previous", "Previous", show=False, id="dialog.previous"),
        Binding("right", "app.focus_next", "Next", show=False, id="dialog.next"),
    ]
    AUTO_FOCUS = "#save"

    def __init__(self, function_id: str) -> None:
        super().__init__()
        self.function_id = function_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Unsaved changes"
            yield Label(f"'{self.function_id}' has changes that are not saved.", markup=False)
            with Horizontal(classes="dialog--buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Discard", id="discard", variant="error")
                yield Button("Cancel", id="cancel")
            yield self.keys_hint(("s", "save and close"), ("d", "discard"), ("Esc", "keep editing"))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "cancel")


class FindBar(Horizontal):
    """Find in the editor: Enter goes to the next match (wrapping), Escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "screen.close_find", "Close find", id="editor.find_close"),
    ]

    def compose(self) -> ComposeResult:
        yield Label("Find", id="find-label")
        yield Input(placeholder="text (case-insensitive unless it has capitals)", id="find-input", select_on_focus=True)
        yield Static("", id="find-status", markup=False)


class ErrorPanel(Vertical):
    """Why the last save was refused (or stored inactive): the message, and the traceback."""

    def compose(self) -> ComposeResult:
        yield Static("", id="error-message", markup=False)
        with Collapsible(title="Traceback (F8)", collapsed=True, id="error-detail"), VerticalScroll(id="error-scroll"):
            yield Static("", id="error-traceback", markup=False)


class EditorScreen(Screen[None]):
    """Edit, save and restore one stored function's source."""

    DEFAULT_CSS = """
    EditorScreen #code {
        height: 1fr;
    }
    EditorScreen FindBar {
        height: 1;
        display: none;
        padding: 0 1;
    }
    EditorScreen FindBar.-open {
        display: block;
    }
    EditorScreen #find-label {
        padding: 0 1 0 0;
        text-style: bold;
    }
    EditorScreen #find-input {
        width: 1fr;
        border: none;
        height: 1;
        padding: 0;
    }
    EditorScreen #find-status {
        width: auto;
        min-width: 10;
        padding: 0 0 0 1;
        color: $text-muted;
    }
    EditorScreen #find-status.-none {
        color: $text-error;
        text-style: bold;
    }
    EditorScreen ErrorPanel {
        display: none;
        height: auto;
        max-height: 50%;
        border-top: heavy $error;
        border-title-color: $text-error;
        border-title-style: bold;
        padding: 0 1;
    }
    EditorScreen ErrorPanel.-warning {
        border-top: heavy $warning;
        border-title-color: $text-warning;
    }
    EditorScreen ErrorPanel.-shown {
        display: block;
    }
    EditorScreen #error-message {
        max-height: 4;
    }
    EditorScreen #error-detail {
        border-top: none;
        padding: 0;
        background: transparent;
    }
    EditorScreen #error-detail Contents {
        padding: 0;
    }
    EditorScreen #error-scroll {
        height: auto;
        max-height: 8;
    }
    EditorScreen #error-traceback {
        width: auto;
        color: $text-muted;
    }
    EditorScreen #status {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "save", "Save", id="editor.save"),
        Binding("f4", "history", "History", id="editor.history"),
        Binding("ctrl+f", "find", "Find", id="editor.find"),
        Binding("f3", "find_next", "Next match", id="editor.find_next", show=False),
        Binding("f8", "traceback", "Traceback", id="editor.traceback", show=False),
        Binding("escape", "close", "Close", id="editor.close"),
    ]
    AUTO_FOCUS = "#code"

    def __init__(self, function_id: str) -> None:
        super().__init__()
        self.function_id = function_id
        self.row: FunctionRow | None = None  # the stored function, once loaded
        self.saved_text: str | None = None  # what is stored; the editor is modified when it differs
        self.saving = False
        self.saves_finished = 0  # save attempts that have ended (stored or refused)
        self.last_error: BaseException | None = None  # the last refused save, for the panel and tests
        self.highlighting = False
        self.install_output: list[str] = []  # pip's lines from the last install, for tests
        self._leaving = False
        self._noticed: str | None = None  # a change elsewhere already announced

    # -- layout -------------------------------------------------------------------------
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

    @property
    def editor(self) -> CodeEditor:
        return self.query_one("#code", CodeEditor)

    @property
    def _document(self) -> Document:
        # TextArea's documents (plain or syntax-aware) are all `Document`s.
        return cast(Document, self.editor.document)

    @property
    def library(self) -> FunctionLibrary:
        services = cast("TuichatApp", self.app).services
        assert services is not None, "the runtime is started before the editor saves"
        return services.library

    @property
    def modified(self) -> bool:
        return self.saved_text is not None and self.editor.text != self.saved_text

    def on_mount(self) -> None:
        self.title = f"Edit {self.function_id}"
        self._open()

    def on_unmount(self) -> None:
        self._unsubscribe()

    def _unsubscribe(self) -> None:
        app = cast("TuichatApp", self.app)
        app.watch_reported.unsubscribe(self)
        app.functions_changed.unsubscribe(self)

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

    @work(group="editor-open", exclusive=True)
    async def _open(self) -> None:
        from tuichat.runtime.errors import RuntimeErrorBase

        app = cast("TuichatApp", self.app)
        await app.runtime()
        try:
            row = await self.library.get(self.function_id)
        except RuntimeErrorBase as error:
            self.notify(str(error), title="Cannot edit", severity="error")
            self._leave()
            return
        if self.leaving:
            return
        self.row = row
        self.saved_text = row.content
        editor = self.editor
        editor.load_text(row.content)
        editor.read_only = False
        editor.focus()
        if row.load_error:
            message, _, detail = row.load_error.partition("\n\n")
            self._show_error("Stored with an error · F2 tries it again", message, detail, warning=True)
        app.watch_reported.subscribe(self, self._file_reported)
        app.functions_changed.subscribe(self, self._functions_changed)
        self._refresh_status()

    # -- title and status line -------------------------------------------------------------
    @on(TextArea.Changed, "#code")
    @on(TextArea.SelectionChanged, "#code")
    def _text_moved(self) -> None:
        self._refresh_status()

    @on(TextArea.Changed, "#code")
    def _text_changed(self) -> None:
        # A refused save's error is about text that is gone once its edits are undone.
        if self.last_error is not None and not self.modified and self.error_shown:
            self._hide_error()
            self.last_error = None

    def _refresh_status(self) -> None:
        row = self.row
        name = f" · {row.name}" if row is not None and row.name != row.id else ""
        modified = self.modified
        self.title = f"Edit {self.function_id}{name}"
        self.sub_title = "● modified" if modified else ""
        if row is None:
            return
        line, column = self.editor.cursor_location
        parts = [f"Ln {line + 1}, Col {column + 1}"]
        if self.saving:
            parts.append("saving…")
        else:
            parts.append("● modified" if modified else "saved")
        if not row.is_active:
            parts.append("inactive")
        parts.append("Python" if self.highlighting else "plain text (no tree-sitter Python)")
        if row.linked_path:
            from tuichat.runtime.watch import describe_path

            parts.append(f"linked {describe_path(row.linked_path)}")
        self.query_one("#status", Static).update("  │  ".join(parts))

    # -- the error panel --------------------------------------------------------------------
    def _show_error(self, title: str, message: str, detail: str = "", *, warning: bool = False) -> None:
        panel = self.query_one(ErrorPanel)
        panel.border_title = title
        panel.set_class(warning, "-warning")
        self.query_one("#error-message", Static).update(message)
        collapsible = self.query_one("#error-detail", Collapsible)
        collapsible.display = bool(detail.strip())
        collapsible.collapsed = True
        self.query_one("#error-traceback", Static).update(detail.rstrip())
        panel.add_class("-shown")
        self.refresh_bindings()

    def _hide_error(self) -> None:
        self.query_one(ErrorPanel).remove_class("-shown")
        self.refresh_bindings()

    @property
    def error_shown(self) -> bool:
        return self.query_one(ErrorPanel).has_class("-shown")

    @property
    def error_text(self) -> str:
        """The panel's title and message as shown (plain text), for tests."""
        rendered: Any = self.query_one("#error-message", Static).render()
        return f"{self.query_one(ErrorPanel).border_title}\n{getattr(rendered, 'plain', rendered)}"

    def action_traceback(self) -> None:
        """F8: show the traceback and focus it (arrows scroll); again to hide it."""
        collapsible = self.query_one("#error-detail", Collapsible)
        if not (self.error_shown and collapsible.display):
            return
        collapsible.collapsed = not collapsible.collapsed
        if collapsible.collapsed:
            self.editor.focus()
        else:
            self.query_one("#error-scroll", VerticalScroll).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "traceback":
            return self.error_shown and self.query_one("#error-detail", Collapsible).display
        if action == "find_next":
            return self.query_one(FindBar).has_class("-open")
        return True

    def _go_to(self, line: int | None, column: int | None) -> None:
        """Put the cursor at a 1-based line and column, scrolled into the middle of the view."""
        if line is None:
            return
        editor = self.editor
        location = editor.clamp_visitable((max(line - 1, 0), max((column or 1) - 1, 0)))
        editor.move_cursor(location)
        editor.focus()
        # The error panel just appeared and took rows from the editor: centre after layout.
        self.call_after_refresh(centre_cursor_line, editor)

    # -- saving -----------------------------------------------------------------------------
    def action_save(self) -> None:
        if self.row is None:
            return
        if self.saving:
            self.notify("Already saving…", severity="warning", timeout=3)
            return
        self._start_save(self.editor.text)

    def _start_save(self, text: str, *, close_after: bool = False, version: FunctionVersion | None = None) -> None:
        self.saving = True
        self._refresh_status()
        self._save(text, close_after=close_after, version=version)

    @work(group="editor-save", exit_on_error=False)
    async def _save(self, text: str, *, close_after: bool = False, version: FunctionVersion | None = None) -> None:
        try:
            saved = await self._save_with_installs(text, version)
        finally:
            self.saving = False
            self.saves_finished += 1
            if not self.leaving:
                self._refresh_status()
        if saved is None or self.leaving:
            if saved is not None and saved.changed:
                cast("TuichatApp", self.app).functions_changed.publish(self.function_id)
            return
        self._saved(saved, text, version)
        if close_after and not self.modified:
            self._leave()

    async def _save_with_installs(self, text: str, version: FunctionVersion | None) -> Saved | None:
        """Save (or restore `version`), asking before pip runs; None when it was refused."""
        from tuichat.runtime.errors import FunctionLoadError, RuntimeErrorBase
        from tuichat.runtime.library import InstallPolicy
        from tuichat.runtime.loading.requirements import RequirementError

        library, fid = self.library, self.function_id

        async def store(policy: InstallPolicy) -> Saved:
            if version is not None:
                return await library.restore(fid, version.id, policy=policy)
            return await library.save_source(fid, text, policy=policy)

        try:
            missing = await library.missing_for(text)
        except RequirementError:
            missing = []  # the save below refuses it with the same error, and keeps the version
        install: list[str] | None = None  # what pip is asked for, when it may run
        install_missing = False
        if missing:
            listed = ", ".join(missing)
            if await self._ask_install(
                f"'{fid}' needs {listed}, which is not installed. Install it with pip now?\n\n"
                "Not now stores the source, but the function stays off until it is installed.",
                f"Install {listed}?",
            ):
                install = missing
        while True:
            try:
                if install is None:
                    return await store(InstallPolicy(offline=bool(missing)))
                return await self._run_install(install, install_missing, store)
            except _InstallCancelled:
                self.notify("Install cancelled: nothing was saved.", severity="warning")
                return None
            except FunctionLoadError as error:
                module: Any = error.missing
                offer = module is not None and module.distribution and not install_missing
                if offer and await self._ask_install(
                    f"'{fid}' imports {module.module}, which is not installed. "
                    f"Install {module.distribution} with pip and save again?",
                    f"Install {module.distribution}?",
                ):
                    install, install_missing = [*(install or []), module.distribution], True
                    continue
                self._refused(error, error.detail, error.line, error.column)
                return None
            except RequirementError as error:
                line = requirements_line(text)
                self._refused(error, "", None if line is None else line + 1, None)
                return None
            except RuntimeErrorBase as error:  # SourceError (empty), FunctionNotFound (deleted meanwhile)
                self._refused(error, "", None, None)
                return None
            except Exception as error:  # noqa: BLE001 -- a bug must not lose the text: show it, keep it
                import traceback

                self._refused(error, "".join(traceback.format_exception(error)), None, None)
                return None

    async def _ask_install(self, question: str, title: str) -> bool:
        dialog = ConfirmScreen(question, title=title, yes="Install", no="Not now", destructive=False)
        return bool(await self._ask(dialog))

    async def _ask(self, screen: Screen[Any]) -> Any:
        """Show a dialog and wait for its answer (from a worker)."""
        return await self.app.push_screen_wait(screen)

    async def _run_install(
        self, packages: list[str], install_missing: bool, store: Callable[[InstallPolicy], Awaitable[Saved]]
    ) -> Saved:
        """Save with installs allowed, in the install dialog that streams pip's output."""
        from tuichat.runtime.library import InstallPolicy
        from tuichat.ui.screens.install import (
            InstallOutcome,
            InstallScreen,
            describe_any,
        )

        async def job(on_line: Callable[[str], None]) -> Saved:
            def line(text: str) -> None:
                self.install_output.append(text)
                on_line(text)

            return await store(InstallPolicy(install_missing=install_missing, on_line=line))

        self.install_output = []
        dialog: InstallScreen[Saved] = InstallScreen(
            f"Installing for '{self.function_id}'", packages, job, describe=describe_any
        )
        outcome: InstallOutcome[Saved] = await self._ask(dialog)
        if outcome.cancelled:
            raise _InstallCancelled
        if outcome.error is not None:
            raise outcome.error
        assert outcome.value is not None
        return outcome.value

    def _refused(self, error: BaseException, detail: str, line: int | None, column: int | None) -> None:
        """A refused save: the text stays as typed, the stored source keeps serving."""
        if self.leaving:
            return
        self.last_error = error
        where = f" at line {line}" if line else ""
        self._show_error(f"✗ Not saved{where} · the last good version keeps serving", str(error), detail)
        self._go_to(line, column)
        self.app.bell()

    def _saved(self, saved: Saved, text: str, version: FunctionVersion | None) -> None:
        fid = self.function_id
        self.row = saved.row
        self.last_error = None
        stored = saved.row.content
        if stored != text:
            # The library rewrote it (Open WebUI's import rewrites): show what is stored.
            self._replace_text(stored)
        self.saved_text = stored
        installed = f" (installed {', '.join(saved.installed)})" if saved.installed else ""
        if not saved.changed:
            self._hide_error()
            self.notify(f"'{fid}' already has this source; nothing to save.", timeout=4)
        elif saved.problem:
            self._show_error("Saved, but off until this is fixed", saved.problem, warning=True)
            self.notify(f"Saved '{fid}', but it is inactive: {saved.problem}", severity="warning", timeout=10)
        else:
            self._hide_error()
            what = f"Restored version #{version.id} of" if version is not None else "Saved and reloaded"
            self.notify(f"{what} '{fid}'{installed}", timeout=4)
        if saved.file_error:
            self.notify(saved.file_error, title="Linked file not written", severity="warning", timeout=12)
        elif saved.wrote:
            from tuichat.runtime.watch import describe_path

            self.notify(f"Wrote {describe_path(saved.wrote)}", timeout=4)
        if saved.changed:
            cast("TuichatApp", self.app).functions_changed.publish(fid)
        self._refresh_status()

    def _replace_text(self, text: str) -> None:
        """Put `text` in the editor as one undoable edit, keeping the cursor where it was."""
        editor = self.editor
        location = editor.cursor_location
        editor.replace(text, (0, 0), editor.document.end, maintain_selection_offset=False)
        editor.move_cursor(editor.clamp_visitable(location))

    # -- history ------------------------------------------------------------------------------
    def action_history(self) -> None:
        if self.row is None:
            return
        self.app.push_screen(HistoryScreen(self.function_id, self.editor.text), self._history_chosen)

    def _history_chosen(self, choice: HistoryChoice | None) -> None:
        if choice is None:
            return
        version = choice.version
        self._replace_text(version.content)
        self.editor.focus()
        if choice.action == "restore":
            if self.saving:
                self.notify("A save is running; press F2 when it is done.", severity="warning")
                return
            self._start_save(version.content, version=version)
        else:
            self.notify(f"Loaded version #{version.id}: F2 saves it, ctrl+z undoes.", timeout=6)
        self._refresh_status()

    # -- find ---------------------------------------------------------------------------------
    def action_find(self) -> None:
        bar = self.query_one(FindBar)
        field = self.query_one("#find-input", Input)
        selected = self.editor.selected_text
        if selected and "\n" not in selected:
            field.value = selected
        bar.add_class("-open")
        field.focus()
        self.refresh_bindings()

    def action_close_find(self) -> None:
        self.query_one(FindBar).remove_class("-open")
        self.editor.focus()
        self.refresh_bindings()

    @on(Input.Changed, "#find-input")
    def _find_typed(self, event: Input.Changed) -> None:
        # Search as you type, from the start of the current match so it grows in place.
        start, _ = sorted(self.editor.selection)
        self._find(event.value, self._document.get_index_from_location(start))

    @on(Input.Submitted, "#find-input")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_find_next()

    def action_find_next(self) -> None:
        query = self.query_one("#find-input", Input).value
        _, end = sorted(self.editor.selection)
        self._find(query, self._document.get_index_from_location(end))

    def _find(self, query: str, start: int) -> bool:
        """Select the first match at or after index `start`, wrapping to the top."""
        status = self.query_one("#find-status", Static)
        status.remove_class("-none")
        if not query:
            status.update("")
            return False
        editor = self.editor
        text = editor.text
        flags = 0 if any(char.isupper() for char in query) else re.IGNORECASE
        pattern = re.compile(re.escape(query), flags)
        match = pattern.search(text, start)
        wrapped = False
        if match is None:
            match = pattern.search(text)
            wrapped = match is not None
        if match is None:
            status.update("no match")
            status.add_class("-none")
            self.app.bell()
            return False
        document = self._document
        editor.selection = Selection(
            document.get_location_from_index(match.start()), document.get_location_from_index(match.end())
        )
        centre_cursor_line(editor)
        positions = [m.start() for m in pattern.finditer(text)]
        number = positions.index(match.start()) + 1 if match.start() in positions else 1
        status.update(f"{number}/{len(positions)}" + (" (wrapped)" if wrapped else ""))
        return True

    # -- live reload and other changes to the stored source -------------------------------------
    def _file_reported(self, report: WatchReport) -> None:
        if report.function_id == self.function_id:
            self._stored_changed(from_file=report.path)

    def _functions_changed(self, function_id: str) -> None:
        if function_id == self.function_id:
            self._stored_changed()

    @work(group="editor-reload", exclusive=True)
    async def _stored_changed(self, from_file: str | None = None) -> None:
        """The stored source may have changed elsewhere: follow it unless there are unsaved edits."""
        from tuichat.runtime.errors import RuntimeErrorBase

        if self.saving or self.saved_text is None:
            return
        try:
            row = await self.library.get(self.function_id)
        except RuntimeErrorBase:
            return
        if self.leaving:
            return
        if row.content == self.saved_text:
            self.row = row
            self._refresh_status()
            return
        where = f" from {from_file}" if from_file else ""
        if self.modified:
            if row.content == self._noticed:
                return  # the same change, reported twice (the watcher and functions_changed)
            self._noticed = row.content
            self.notify(
                f"'{self.function_id}' was changed{where}. Your unsaved edits are kept here; "
                "F2 would store them over it (F4 History has both).",
                title="Changed elsewhere",
                severity="warning",
                timeout=12,
            )
            self.row = row
            self._refresh_status()
            return
        self.row = row
        self.saved_text = row.content
        self._replace_text(row.content)
        self._hide_error()
        self.notify(f"Reloaded '{self.function_id}'{where}.", timeout=4)
        self._refresh_status()

    # -- closing ------------------------------------------------------------------------------
    def action_close(self) -> None:
        """Escape: close the find bar, leave the traceback, or close the editor (asking first)."""
        if self.query_one(FindBar).has_class("-open"):
            self.action_close_find()
            return
        if self.focused is not None and self.focused is not self.editor:
            self.editor.focus()
            return
        if self.saving:
            self.notify("Saving: close when it is done.", severity="warning", timeout=3)
            return
        if not self.modified:
            self._leave()
            return
        self.app.push_screen(UnsavedChangesScreen(self.function_id), self._close_answered)

    def _close_answered(self, answer: str | None) -> None:
        if answer == "discard":
            self._leave()
        elif answer == "save" and not self.saving:
            self._start_save(self.editor.text, close_after=True)


def centre_cursor_line(editor: TextArea) -> None:
    """Scroll the cursor's line to the middle of the view. TextArea's own `center=True` also
    centres sideways, scrolling a line that fits half a screen to the right."""
    editor.scroll_cursor_visible()
    row = editor.cursor_location[0]
    editor.scroll_to(y=max(row - editor.scrollable_content_region.height // 2, 0), animate=False, immediate=True)
