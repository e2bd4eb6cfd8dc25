"""The widgets of the pipe editor: the code editor itself, the find bar and the error panel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, cast

from rich.cells import cell_len
from rich.segment import Segment
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.document._document import EditResult, Location
from textual.document._edit import Edit
from textual.document._wrapped_document import WrappedDocument
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import Collapsible, Input, Label, Static, TextArea
from textual.widgets.text_area import Document, LanguageDoesNotExist, Selection

from tuichat.runtime.untrusted import has_controls, neutralise

LANGUAGE = "python"
HIGHLIGHT_MARGIN = 150  # lines highlighted above and below the view


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._widest: int | None = None  # the widest line, in cells: the width to scroll
        self._editing: Edit | None = None
        self._highlighted: tuple[int, int] | None = None  # the lines highlighted (None: all)
        self._text: str | None = None  # the text, while unchanged
        super().__init__(*args, **kwargs)

    # -- large sources: what TextArea re-counts over the whole text on every key ----------------
    def _set_document(self, text: str, language: str | None) -> None:
        self._widest = None
        self._text = None
        super()._set_document(text, language)
        self._text = None

    def _rewrap_and_refresh_virtual_size(self) -> None:
        wrapped = self.wrapped_document
        if type(wrapped) is WrappedDocument:  # a new document's, wrapped (at width 0) as it was made
            wrapped.__class__ = CountedWrappedDocument
            cast(CountedWrappedDocument, wrapped)._unwrapped = wrapped._width == 0
        super()._rewrap_and_refresh_virtual_size()

    def edit(self, edit: Edit) -> EditResult:
        self._text = None
        self._editing = edit  # so that the size is worked out from the lines it changed
        try:
            return super().edit(edit)
        finally:
            self._editing = None
            self._text = None

    def _undo_batch(self, edits: Sequence[Edit]) -> None:
        self._text = None
        super()._undo_batch(edits)
        self._text = None

    def _redo_batch(self, edits: Sequence[Edit]) -> None:
        self._text = None
        super()._redo_batch(edits)
        self._text = None

    @property
    def text(self) -> str:
        """The whole text, joined once per change: TextArea reads it for every line it paints (to
        know whether to show its placeholder), and the editor to know whether it is modified."""
        if self._text is None:
            self._text = self.document.text
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self.load_text(value)

    def _refresh_size(self) -> None:
        """TextArea measures every line for the width after each edit (~30 ms a key at 1 MB): here
        only the lines an edit changed are measured. The width only grows while editing (a line
        made shorter leaves a little room to scroll); it is measured afresh otherwise (a load,
        an undo, a resize)."""
        if self.soft_wrap:
            super()._refresh_size()
            return
        document = self.text_document
        result = self._editing._edit_result if self._editing is not None else None
        if self._widest is None or self._editing is None or result is None:
            self._widest = document.get_size(self.indent_width).width
        else:
            top, bottom = self._editing.top[0], min(result.end_location[0], document.line_count - 1)
            widths = (cell_len(document[row].expandtabs(self.indent_width)) for row in range(top, bottom + 1))
            self._widest = max(self._widest, *widths)
        self.virtual_size = Size(self._widest + self.gutter_width + 1, document.line_count)
        self._refresh_scrollbars()

    def _build_highlight_map(self) -> None:
        """TextArea queries the whole syntax tree for highlights after every edit (most of a key's
        cost in a large source); here only the lines in view and HIGHLIGHT_MARGIN around them,
        again when scrolling leaves them (`render_lines`)."""
        if self.soft_wrap or not self._highlight_query:
            self._highlighted = None
            super()._build_highlight_map()
            return
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        top, bottom = self._visible_line_indices
        first, last = max(0, top - HIGHLIGHT_MARGIN), bottom + HIGHLIGHT_MARGIN
        self._highlighted = (first, last)
        captures = self.document.query_syntax_tree(self._highlight_query, start_point=(first, 0), end_point=(last + 1, 0))
        for name, nodes in captures.items():
            for node in nodes:
                (start_row, start_column), (end_row, end_column) = node.start_point, node.end_point
                if start_row == end_row:
                    highlights[start_row].append((start_column, end_column, name))
                    continue
                highlights[start_row].append((start_column, None, name))
                for row in range(max(start_row + 1, first), min(end_row, last + 1)):  # a long string: only what is near
                    highlights[row].append((0, None, name))
                highlights[end_row].append((0, end_column, name))

    def render_lines(self, crop: Region) -> list[Strip]:
        window = self._highlighted
        if window is not None:
            top, bottom = self._visible_line_indices
            if top < window[0] or bottom > window[1]:
                self._build_highlight_map()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        return _shown(super().render_line(y))

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


class CountedWrappedDocument(WrappedDocument):
    """A WrappedDocument that counts its height once per (re)wrap: TextArea reads the height for
    every line it paints, and WrappedDocument adds it up over every line each time (a 5 MB
    source: ~50,000 lines summed ~75 times a paint). Without soft wrap, wrapping again what
    is already in step is skipped (opening a document wrapped it twice)."""

    _height: int | None = None

    @property
    def height(self) -> int:
        if self._height is None:
            self._height = sum(len(offsets) + 1 for offsets in self._wrap_offsets)
        return self._height

    _unwrapped = False  # wrapped at width 0 (no soft wrap), and kept in step since by wrap_range

    def wrap(self, width: int, tab_width: int | None = None) -> None:
        if width == 0 and self._unwrapped and tab_width in (None, self._tab_width):
            return  # TextArea wraps a new document twice; without soft wrap the second changes nothing
        self._height = None
        super().wrap(width, tab_width)
        self._height = None
        self._unwrapped = width == 0

    def wrap_range(self, start: Location, old_end: Location, new_end: Location) -> None:
        self._height = None
        super().wrap_range(start, old_end, new_end)
        self._height = None


def _shown(strip: Strip) -> Strip:
    """A line of the editor with its control characters as their pictures (`␛`): TextArea
    hands them to the terminal, so a source holding an escape sequence (an imported one)
    would set the title or clear the screen. Each picture takes a cell the raw character did
    not, so the line is cut back to its width (its last cell, and the cursor after a control
    character on that line, shift by one)."""
    if not any(has_controls(segment.text) for segment in strip):
        return strip
    width = strip.cell_length
    return Strip([Segment(neutralise(s.text), s.style, s.control) for s in strip]).crop(0, width)


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
        self.query_one("#error-message", Static).update(neutralise(message))  # the pipe's error
        collapsible = self.query_one("#error-detail", Collapsible)
        collapsible.display = bool(detail.strip())
        collapsible.collapsed = True
        self.query_one("#error-traceback", Static).update(neutralise(detail.rstrip()))

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
