"""Complete blocks of a streamed reply, sealed as the live tail drew them.

A seal used to compose Textual's Markdown widgets for the blocks it moved out of the tail:
~20 widgets for a section of paragraphs, a list and a fence, and a layout that styled and
measured each (55-77 ms, a streaming reply's longest stall, ~22 times for the bench's
reply). The tail has drawn those blocks already, cell for cell as the widgets would paint
them (`LiveTail`), so the blocks it can draw are sealed as one `DrawnSegment` keeping its
lines; tables, quotes and nested lists, which only Textual's widgets draw, still become a
Markdown (`ReplyText`). A stored reply, opened again, is Textual's Markdown as before.

Being a tail that no longer grows, it redraws itself as the tail does on a new width or
theme; a selection is highlighted and copied from its lines, and its links open as a
Markdown's do.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.selection import Selection
from textual.strip import Strip

from tuichat.ui.widgets.live_tail import LiveTail, Looks, blocks_of
from tuichat.ui.widgets.markdown_parser import line_start
from tuichat.ui.widgets.settled import KeptLines


class DrawnSegment(KeptLines, LiveTail):
    """Blocks sealed out of a `LiveTail`, drawn (and kept) as it drew them."""

    ALLOW_SELECT = True
    draws_lines = True  # (its lines differ: `KeptLines` keeps them all)

    def __init__(self, looks: Looks, text: str, *, above: int, drawn: LiveTail | None = None) -> None:
        super().__init__(looks, above=above)
        self.text = text
        self.blocks = blocks_of(text)
        if drawn is not None:  # the tail's lines for these blocks: its first draw only frames margins
            self._drawn = list(drawn._drawn)

    def margin_below(self) -> int:
        """The bottom margin of its last block (drawn as its last lines)."""
        return self.looks.margins(self.blocks[-1].kind)[1] if self.blocks else 0

    def render_line(self, y: int) -> Strip:
        """Line `y` with each cell's place in its line (`get_selection`'s text): what Textual
        reads a selection's ends from. (Painted, each block's cells keep the places a block
        widget gives them, as a Markdown paints them.)"""
        return self._line(y).apply_offsets(0, y)

    def _line(self, y: int) -> Strip:
        line = super()._line(y)
        selection = self.text_selection
        span = selection.get_span(y) if selection is not None else None
        if span is None:
            return line
        start, end = span
        end = line.cell_length if end == -1 else end
        # Its background, blended as Textual's widgets paint a selection; its colour is
        # transparent (resolved, the background's), so the text keeps its own.
        style = RichStyle(bgcolor=self.screen.get_component_rich_style("screen--selection").bgcolor)
        selected = line.crop(start, end)
        selected = Strip(Segment.apply_style(selected, post_style=style), selected.cell_length)  # (over its own)
        return Strip.join([line.crop(0, start), selected, line.crop(end)])

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The text selected, as it reads on screen, less the reply's left padding and the
        blank cells ending each line."""
        pad = self.looks.styles.padding.left
        lines = selection.extract("\n".join(line.text for line in self._lines)).split("\n")
        trimmed = (line.rstrip() for line in lines)
        return "\n".join(line[pad:] if line[:pad].isspace() else line for line in trimmed), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()


def runs(text: str) -> list[tuple[bool, str]]:
    """`text` (complete blocks) cut into runs of blocks the tail draws (True) and of blocks
    only Textual's Markdown draws (False: tables, quotes, rules, nested lists, HTML), each
    with the blank lines after it."""
    found: list[tuple[bool, str]] = []
    start, kind = 0, None
    for block in blocks_of(text):
        drawn = block.kind != "source"
        if kind is not None and drawn != kind:
            at = line_start(text, block.line)
            found.append((kind, text[start:at]))
            start = at
        kind = drawn
    found.append((bool(kind), text[start:]))  # (no block at all: a Markdown, showing nothing)
    return found
