"""A streaming reply's text: a column of Markdown segments, cut at complete blocks."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Markdown

from tuichat.ui.widgets.fold import Fold
from tuichat.ui.widgets.live_markdown import LiveMarkdown, drop_reserve, parser
from tuichat.ui.widgets.settled import KeptLines, Settled

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what markdown-it counts as the end of a line
_HALF_FENCE = re.compile(r"(?:^|(?<=[\r\n])) {0,3}(?:```|~~~)[^\r\n]*\Z")  # a last line opening a fence


# The blocks Textual's Markdown gives no top margin. A segment of a streaming reply best
# starts with one: its gap to the block above is then that block's bottom margin alone,
# which the segment above has (a Markdown's height counts its first block's top margin and
# its last block's bottom margin), so the margins between segments add up as they collapse
# in one Markdown. Before any other block the gap needs mending (see ReplyText).
_NO_TOP_MARGIN = frozenset({"paragraph_open", "bullet_list_open", "ordered_list_open", "table_open"})


def segment_cut(text: str, most: int, least: int = 1) -> int:
    """Where a segment of a streaming reply's `text` can end (0: not yet): once more than
    `least` blocks have gathered, before its last top-level block that starts with no top
    margin, not before its first block; failing one, once more than `most` blocks have
    gathered, before its last block.

    Every block above the last is complete: no text appended later can change it (the rule
    Textual's own Markdown streaming relies on), so a Markdown of `text[:cut]` renders
    those blocks as the whole text would. (The last block's kind may still change: "``"
    is a paragraph until a third backtick makes it a fence.)"""
    starts = [(t.map[0], t.type) for t in parser().parse(text) if t.level == 0 and t.nesting >= 0 and t.map]
    if len(starts) <= least:
        return 0
    line = next((start for start, kind in reversed(starts[1:]) if kind in _NO_TOP_MARGIN), 0)
    if not line and len(starts) > most:
        line = starts[-1][0]
    if line <= (starts[0][0] if starts else 0):
        return 0
    breaks = _LINE_BREAK.finditer(text)
    for _ in range(line - 1):
        next(breaks)
    return next(breaks).end()


_MENDS = ("-m00", "-m01", "-m10", "-m11")  # classes in ReplyText's CSS


class ReplyText(KeptLines, Settled, Widget):
    """A streaming reply's text, as a column of Markdown segments.

    Each segment ends at a top-level block boundary (`segment_cut`). A write touches only
    the last one (live): most writes grow its last block in place (`LiveMarkdown.grow`: a
    repaint), the others append to it (`Markdown.append`, re-parsing from its last block).
    Blocks above the last are complete, so sealing a segment renders only its lists, tables
    and quotes, and the end renders the last segment afresh; the stream needs no re-render of
    the whole reply. The column renders as one Markdown of the whole text would, margins
    included.

    While the conversation follows the stream, the segments it scrolled past are folded
    (`folding`, a `Fold`).
    """

    # Blocks a live segment may gather before it ends where its gap needs mending (a run of
    # headings and fences with no paragraph, list or table between them).
    MOST_BLOCKS = 6
    # Blocks a live segment gathers before it is sealed: a segment is what folds, and a seal
    # lays the screen out, so a few blocks a seal, not one.
    LEAST_BLOCKS = 3

    DEFAULT_CSS = """
    ReplyText {
        height: auto;
        /* Like a stored reply's Markdown; and a stream layout measures its children at the
           width alone, so a segment's measure stays cached while the column grows. */
        layout: stream;
        & > Markdown {
            layout: stream;
            /* The first block of a segment after a mended gap: top margin less the overlap
               with the bottom margin above (margins set in code don't count in a stream). */
            & > .-m00 { margin: 0 0 0 0; }
            & > .-m01 { margin: 0 0 1 0; }
            & > .-m10 { margin: 1 0 0 0; }
            & > .-m11 { margin: 1 0 1 0; }
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._live: Markdown = LiveMarkdown()
        self._live_text = ""  # the text of the live segment
        self._sealed_text = ""  # the text of the segments above it
        self.folding = Fold(self)

    def compose(self) -> ComposeResult:
        yield self._live

    @property
    def markdowns(self) -> list[Markdown]:
        return list(self.query_children(Markdown))

    @property
    def shown(self) -> str:
        """The Markdown source on screen: `text`, less a fence's opening line still waiting
        for its end."""
        return self._sealed_text + self._live.source

    @property
    def text(self) -> str:
        """Everything written (a fence's opening line is shown once it is complete)."""
        return self._sealed_text + self._live_text

    # Blank lines kept under the text while it streams, so that a new line or block takes one
    # of them instead of growing the reply: growing it scrolls the conversation, and a scroll
    # repaints the whole screen, where a line written in place repaints one block.
    RESERVE = 6  # at least; a quarter of the screen's height on a taller terminal

    def reserve(self) -> None:
        """Top up the blank lines under the text once fewer than two are left."""
        shown = [child for child in self.children if child.display and child.region]
        if not shown or not self.region:
            return
        last = shown[-1]
        used = last.region.bottom + last.styles.margin.bottom - self.region.y
        if self.size.height - used < 2:
            self.styles.min_height = used + max(self.RESERVE, self.screen.size.height // 4)

    def release_reserve(self) -> None:
        """The text is complete: no more blank lines under it."""
        self.styles.min_height = None

    async def write(self, text: str, *, final: bool = False) -> None:
        """Add `text` to what is shown (`final`: nothing more will come)."""
        live = self._live_text + text
        if not final and self._grow(live):
            return
        cut = segment_cut(live, self.MOST_BLOCKS, self.LEAST_BLOCKS) if text else 0
        if cut:  # seal the live segment with its complete blocks; the rest starts the next
            await self._end_segment(live[:cut])
            self._sealed_text += live[:cut]
            self._live: Markdown = LiveMarkdown()
            await self.mount(self._live)
            live = live[cut:]
        self._live_text = live
        shown = self._shown(live, final=final)
        source = self._live.source
        if shown == source and not final:
            return
        if final:  # its blocks are right as they stand: sealing renders only its sources
            await self._end_segment(shown)
            return
        if not cut and source and shown.startswith(source):
            await self._live.append(shown[len(source) :])
            await self._live.settle()
            for block in self._live.children[:-1]:  # only the block being written keeps blank lines
                drop_reserve(block)
            self._mend(self._live)
        else:
            await self._render_segment(self._live, shown)

    async def _end_segment(self, text: str) -> None:
        """Bring the live segment's blocks up to `text`, its complete blocks, and seal it.
        When `text` adds blocks of its own (a burst of tokens), the segment renders afresh:
        appending would build live blocks only for the seal to replace them."""
        live, source = self._live, self._live.source
        if text.startswith(source) and live.blocks_from_last(text) <= 1:
            if text != source:
                await live.append(text[len(source) :])
        elif not (source.startswith(text) and live.blocks_from_last(text) <= 1):
            live.live = False
            await live.update(text)
        await live.seal(text)
        self._mend(self._live)

    def _grow(self, live: str) -> bool:
        """Show the live segment's text `live` by growing its last block in place, if that
        is all it takes (then no segment can end either: its blocks are the same)."""
        shown = self._shown(live, final=False)
        source = self._live.source
        if not source or not shown.startswith(source):
            return False
        if shown != source and not self._live.grow(shown[len(source) :]):
            return False
        self._live_text = live
        return True

    @staticmethod
    def _shown(live: str, *, final: bool) -> str:
        """What of the live segment's text to show: a fence's opening line waits for its
        end (a half info string, "pyt", would make Pygments look for a lexer it hasn't
        got, which loads every lexer plugin once: ~0.3 s)."""
        opener = None if final else _HALF_FENCE.search(live)
        return live[: opener.start()] if opener else live

    async def replace(self, text: str) -> None:
        """Show `text` instead of what is shown."""
        self._live, self._live_text, self._sealed_text = LiveMarkdown(), "", ""
        with self.app.batch_update():
            await self.remove_children()
            self.folding.forget()
            await self.mount(self._live)
        await self.write(text)

    async def _render_segment(self, markdown: Markdown, text: str) -> None:
        """Render the live segment afresh (its text no longer starts with what it shows)."""
        if isinstance(markdown, LiveMarkdown):
            markdown.live = True
        await markdown.update(text)
        self._mend(markdown)

    def _mend(self, markdown: Markdown) -> None:
        """Mend the gap above a segment whose first block has a top margin: the segment
        above counts its last block's bottom margin, which one Markdown would have collapsed
        with that top margin, so the first block takes a class with a top margin less their
        overlap. (The class stays if the theme changes margins later: a fence's, to none
        with an ANSI theme, leaves its gap a line too tall till the chat is opened again.)"""
        first = markdown.children[0] if markdown.children else None
        if first is None or any(first.has_class(name) for name in _MENDS):
            return
        segments = [child for child in self.children if isinstance(child, Markdown)]
        # The last block above: segments of HTML alone have none (Markdown shows no HTML).
        above = next((s.children[-1] for s in reversed(segments[: segments.index(markdown)]) if s.children), None)
        top, right, bottom, left = first.styles.margin
        overlap = min(top, above.styles.margin.bottom if above is not None else 0)
        mended = f"-m{top - overlap}{bottom}"
        if overlap and not (right or left) and mended in _MENDS:
            first.add_class(mended)

    def on_resize(self) -> None:
        if self.folding.folds and self.size.width != self.folding.width:
            self.folding.unfold()
