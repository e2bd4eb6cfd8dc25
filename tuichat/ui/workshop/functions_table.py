"""The table of functions on the pipes screen: one row each, with the columns that fit.

The core columns (on/off, id, name, type, models, status) always show; version and author
join while the terminal is wide enough, and the description takes what is left, so the
table never scrolls sideways (the detail panel under it shows everything). It fills again
when its width changes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from tuichat.runtime.transfer import Manifest
from tuichat.runtime.untrusted import neutralise
from tuichat.store import FunctionRow
from tuichat.ui.workshop.catalog import EMPTY, Catalog

ON, OFF = "● on", "○ off"  # the switch reads without colour
Column = tuple[str, str, int]  # key, header, width
# In order; the table shows the optional ones only when the terminal is wide enough for them.
COLUMNS: tuple[Column, ...] = (
    ("state", "On", 5),
    ("id", "ID", 12),
    ("name", "Name", 16),
    ("type", "Type", 6),
    ("models", "Models", 16),
    ("status", "Status", 10),
)
OPTIONAL_COLUMNS: tuple[Column, ...] = (("version", "Version", 7), ("author", "Author", 12))
DESCRIPTION_MIN = 16  # the description column takes what is left, when this much is
CELL_PADDING = 2  # DataTable pads each cell by one on each side


def columns_for(width: int) -> list[Column]:
    """The columns that fit `width` cells: the core ones, then optional ones while they fit,
    then the description in what is left."""
    columns = list(COLUMNS)
    used = sum(w + CELL_PADDING for _, _, w in columns)
    for column in OPTIONAL_COLUMNS:
        if used + column[2] + CELL_PADDING <= width:
            columns.append(column)
            used += column[2] + CELL_PADDING
    if width - used - CELL_PADDING >= DESCRIPTION_MIN:
        columns.append(("description", "Description", width - used - CELL_PADDING))
    elif width > used:
        # Not enough for a description: the models column takes what is left.
        index = next(i for i, (key, _, _) in enumerate(columns) if key == "models")
        key, label, size = columns[index]
        columns[index] = (key, label, size + width - used)
    return columns


def fit(text: str, width: int) -> Text:
    """One line of plain text (never markup), cut with an ellipsis to `width`. A function's
    name, frontmatter and errors are the pipe's: their control characters are shown."""
    line = neutralise(" ".join(str(text).split()))
    if len(line) > width:
        line = line[: max(width - 1, 0)] + "…"
    return Text(line, no_wrap=True)


def cells(row: FunctionRow, catalog: Catalog) -> dict[str, str]:
    manifest = Manifest.of(row)
    return {
        "state": ON if row.is_active else OFF,
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "models": catalog.models_cell(row),
        "status": catalog.status(row),
        "version": manifest.version or EMPTY,
        "author": manifest.author,
        "description": manifest.description,
    }


class FunctionsTable(DataTable[Any]):
    """The functions, a row each (keyed by id), with list keys: Home/End (and g/G) jump, j/k move."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,g", "scroll_top", "First", show=False),
        Binding("end,G", "scroll_bottom", "Last", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.catalog: Catalog | None = None
        self._filled_width = 0

    @property
    def highlighted_id(self) -> str | None:
        """The id of the row under the cursor."""
        if self.row_count == 0:
            return None
        row = min(max(self.cursor_row, 0), self.row_count - 1)
        return str(self.ordered_rows[row].key.value)

    def show(self, catalog: Catalog, keep: str | None = None) -> None:
        """Fill the table from `catalog`, the cursor on `keep` (or where it was, if that is gone)."""
        self.catalog = catalog
        index = self.cursor_row
        # One cell is kept free for the vertical scrollbar of a long list.
        columns = columns_for(max(self.size.width or self.app.size.width, 40) - 1)
        self.clear(columns=True)
        for key, label, width in columns:
            self.add_column(label, width=width, key=key)
        for row in catalog.rows:
            row_cells = cells(row, catalog)
            self.add_row(*(fit(row_cells[key], width) for key, _, width in columns), key=row.id)
        self._filled_width = self.size.width
        if keep is not None and catalog.row(keep) is not None:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
        elif catalog.rows:  # it was deleted: stay where it was
            self.move_cursor(row=min(max(index, 0), len(catalog.rows) - 1), animate=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self.catalog is not None and self.size.width != self._filled_width:
            self.show(self.catalog, self.highlighted_id)
