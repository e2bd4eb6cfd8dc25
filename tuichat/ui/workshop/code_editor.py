"""The widgets of the pipe editor: the code editor itself, the find bar and the error panel."""

from __future__ import annotations

import re
from typing import Any, ClassVar, cast

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Collapsible, Input, Label, Static, TextArea
from textual.widgets.text_area import Document, LanguageDoesNotExist, Selection

LANGUAGE = "python"


class CodeEditor(TextArea):
    """`TextArea.code_editor`, except that Escape reaches the screen, and ctrl+home/ctrl+end
    go to the start/end of the source as in other editors (TextArea has no such keys).

    In "indent" tab mode TextArea turns Escape into "focus the next widget"; here Escape closes
    the find bar or the editor (the screen's binding), the way every other tuichat screen does.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+home", "document_edge(False)", "Start", id="editor.start", show=False),
        Binding("ctrl+end", "document_edge(True)", "End", id="editor.end", show=False),
        Binding("ctrl+shift+home", "document_edge(False, True)", "Select to start", id="editor.select_start", show=False),
        Binding("ctrl+shift+end", "document_edge(True, True)", "Select to end", id="editor.select_end", show=False),
    ]

    @property
    def text_document(self) -> Document:
        # TextArea's documents (plain or syntax-aware) are all `Document`s.
        return cast(Document, self.document)

    def action_document_edge(self, end: bool, select: bool = False) -> None:
        self.move_cursor(self.document.end if end else (0, 0), select=select)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.prevent_default()  # skip TextArea's handler; the key bubbles to the bindings

    def replace_all(self, text: str) -> None:
        """Put `text` in the editor as one undoable edit, keeping the cursor where it was."""
        location = self.cursor_location
        self.replace(text, (0, 0), self.document.end, maintain_selection_offset=False)
        self.move_cursor(self.clamp_visitable(location))

    def go_to(self, line: int, column: int | None) -> None:
        """Put the cursor at a 1-based line and column, and focus; centre it once laid out (an
        error panel may just have taken rows from the editor)."""
        self.move_cursor(self.clamp_visitable((max(line - 1, 0), max((column or 1) - 1, 0))))
        self.focus()
        self.call_after_refresh(centre_cursor_line, self)

    def find(self, query: str, start: int) -> str:
        """Select the first match of `query` at or after index `start`, wrapping to the top;
        case-insensitive unless it has capitals. Returns what the find bar says ("" for no query,
        "no match", "2/5", "1/5 (wrapped)"); a miss moves nothing."""
        if not query:
            return ""
        text = self.text
        pattern = re.compile(re.escape(query), 0 if any(char.isupper() for char in query) else re.IGNORECASE)
        match = pattern.search(text, start)
        wrapped = False
        if match is None:
            match = pattern.search(text)
            wrapped = match is not None
        if match is None:
            return "no match"
        document = self.text_document
        self.selection = Selection(document.get_location_from_index(match.start()), document.get_location_from_index(match.end()))
        centre_cursor_line(self)
        positions = [m.start() for m in pattern.finditer(text)]
        number = positions.index(match.start()) + 1 if match.start() in positions else 1
        return f"{number}/{len(positions)}" + (" (wrapped)" if wrapped else "")

    def index_of(self, end: bool) -> int:
        """The index in the text of the selection's start (or end)."""
        start, stop = sorted(self.selection)
        return self.text_document.get_index_from_location(stop if end else start)


def make_code_editor(text: str = "", **kwargs: Any) -> CodeEditor:
    """A code editor with Python highlighting, or plain text when tree-sitter lacks Python."""
    try:
        editor = CodeEditor.code_editor(text, language=LANGUAGE, theme="css", **kwargs)
    except LanguageDoesNotExist:
        editor = CodeEditor.code_editor(text, language=None, theme="css", **kwargs)
    return cast(CodeEditor, editor)


def centre_cursor_line(editor: TextArea) -> None:
    """Scroll the cursor's line to the middle of the view. TextArea's own `center=True` also
    centres sideways, scrolling a line that fits half a screen to the right."""
    editor.scroll_cursor_visible()
    row = editor.cursor_location[0]
    editor.scroll_to(y=max(row - editor.scrollable_content_region.height // 2, 0), animate=False, immediate=True)


class FindBar(Horizontal):
    """Find in the editor: Enter goes to the next match (wrapping), Escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "screen.close_find", "Close find", id="editor.find_close"),
    ]

    def compose(self) -> ComposeResult:
        yield Label("Find", id="find-label")
        yield Input(placeholder="text (case-insensitive unless it has capitals)", id="find-input", select_on_focus=True)
        yield Static("", id="find-status", markup=False)

    @property
    def query_text(self) -> str:
        return self.query_one("#find-input", Input).value

    def open(self, text: str | None) -> None:
        """Show the bar (with `text` to find, if given) and focus its field."""
        field = self.query_one("#find-input", Input)
        if text:
            field.value = text
        self.add_class("-open")
        field.focus()

    def close(self) -> None:
        self.remove_class("-open")

    def show_status(self, status: str) -> None:
        widget = self.query_one("#find-status", Static)
        widget.update(status)
        widget.set_class(status == "no match", "-none")


class ErrorPanel(Vertical):
    """Why the last save was refused (or stored inactive): the message, and the traceback."""

    def compose(self) -> ComposeResult:
        yield Static("", id="error-message", markup=False)
        with Collapsible(title="Traceback (F8)", collapsed=True, id="error-detail"), VerticalScroll(id="error-scroll"):
            yield Static("", id="error-traceback", markup=False)

    def fill(self, title: str, message: str, detail: str = "", *, warning: bool = False) -> None:
        self.border_title = title
        self.set_class(warning, "-warning")
        self.query_one("#error-message", Static).update(message)
        collapsible = self.query_one("#error-detail", Collapsible)
        collapsible.display = bool(detail.strip())
        collapsible.collapsed = True
        self.query_one("#error-traceback", Static).update(detail.rstrip())

    @property
    def has_traceback(self) -> bool:
        return bool(self.query_one("#error-detail", Collapsible).display)

    def toggle_traceback(self) -> bool:
        """Show or hide the traceback; True when it is shown now (and focused)."""
        collapsible = self.query_one("#error-detail", Collapsible)
        collapsible.collapsed = not collapsible.collapsed
        if not collapsible.collapsed:
            self.query_one("#error-scroll", VerticalScroll).focus()
        return not collapsible.collapsed

    @property
    def text(self) -> str:
        """The title and message as shown (plain text)."""
        rendered: Any = self.query_one("#error-message", Static).render()
        return f"{self.border_title}\n{getattr(rendered, 'plain', rendered)}"
