"""A streaming reply's text: Markdown segments for what is sealed, and a tail being written."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Markdown

from tuichat.ui.widgets.drawn_segment import DrawnSegment, runs
from tuichat.ui.widgets.fold import Fold
from tuichat.ui.widgets.live_tail import LiveTail, Looks
from tuichat.ui.widgets.markdown_parser import line_start
from tuichat.ui.widgets.settled import KeptLines, Settled, all_mounted, keep_lines, settle
from tuichat.ui.widgets.stored_markdown import StoredMarkdown

_HALF_FENCE = re.compile(r"(?:^|(?<=[\r\n])) {0,3}(?:```|~~~)[^\r\n]*\Z")  # a last line opening a fence


_MENDS = ("-m00", "-m01", "-m10", "-m11")  # classes in ReplyText's CSS


class ReplyText(KeptLines, Settled, Widget):
    """A streaming reply's text: a column of sealed segments above a `LiveTail`.

    A write draws the text since the last seal in the tail (a repaint of the lines that
    changed). The tail keeps blank lines under its text, topped up to a quarter of the
    screen when few are left; when a table, quote or nested list in it is complete (it renders
    then), or it holds more than a screen, its complete blocks are sealed into segments
    above it (`tidy`): a layout each, where a Markdown written in place lays the screen out
    for every new block and every line a block grows past its room. Blocks above the last
    are complete (no text appended later can change them, the rule Textual's own Markdown
    streaming relies on), and the tail draws them as their Markdown paints them, so a seal
    moves nothing: the blocks it draws keep the lines it drew (`DrawnSegment`), the others
    become a Markdown. At the end the rest is sealed and the tail goes: the column renders
    as one Markdown of the whole text would, margins included.

    While the conversation follows the stream, the segments it scrolled past are folded
    (`folding`, a `Fold`).
    """

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

    # Blank lines the tail keeps under the text once it outgrows them, so that the lines and
    # blocks that come next take them instead of growing the reply: growing it lays the
    # screen out and scrolls the conversation (a repaint of the whole screen).
    RESERVE = 6  # at least
    RESERVE_SHARE = 0.25  # of the screen's height, on a taller terminal
    LOW = 4  # blank lines left when more are kept (a write seldom adds more)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._looks: Looks | None = Looks()
        self._tail: LiveTail | None = LiveTail(self._looks)
        self._live_text = ""  # the text since the last seal (the tail shows it)
        self._sealed_text = ""  # the text of the segments above it
        self.folding = Fold(self)

    def compose(self) -> ComposeResult:
        if self._looks is not None and self._tail is not None:
            yield self._looks
            yield self._tail

    @property
    def shown(self) -> str:
        """The Markdown source on screen: `text`, less a fence's opening line still waiting
        for its end."""
        return self._sealed_text + (self._tail.text if self._tail is not None else "")

    @property
    def text(self) -> str:
        """Everything written (a fence's opening line is shown once it is complete)."""
        return self._sealed_text + self._live_text

    @property
    def tail(self) -> LiveTail | None:
        """What is being written, until the end."""
        return self._tail

    async def write(self, text: str, *, final: bool = False) -> None:
        """Add `text` to what is shown (`final`: nothing more will come: the rest is sealed
        and the tail goes)."""
        self._live_text += text
        tail = self._tail if self._tail is not None else await self._start_tail()
        if final:
            await self.end()  # (which seals the rest first)
            return
        shown = self._shown(self._live_text)
        if shown == tail.text:
            return
        tail.show(shown)
        if not tail.laid_out or not tail.blocks:
            return  # its first layout sizes it; blank lines alone show nothing
        if not tail.fits:  # past the blank lines kept: it shows once they are topped up
            await self.tidy()

    async def seal_rest(self) -> None:
        """Seal what the tail shows, complete or not (nothing more will come): the tail is
        left empty, with the blank lines it kept, so the screen below doesn't move yet.
        Drawn only if blocks were drawn before: drawn segments keep the looks they draw with
        (19 widgets, ~0.4 MB), which a reply that never outgrew its tail (most of them, and
        short) is better without."""
        if self._tail is not None:
            await self._seal(len(self._live_text), drawn=self._has_drawn)

    async def end(self) -> None:
        """The tail goes, with the blank lines it kept, and so do its looks unless drawn
        segments draw with them (a stored reply has none). Apart from `seal_rest`, so each
        is a layout of its own: together they were a reply's worst stall (a new table's
        first render, then the whole screen scrolled)."""
        tail = self._tail
        if self._live_text:
            await self.seal_rest()
        gone = [tail] if tail is not None else []
        if self._looks is not None and not self._has_drawn:
            gone.append(self._looks)
            self._looks = None
        self._tail = None
        if gone:
            await self.remove_children(gone)

    @property
    def untidy(self) -> bool:
        """Whether `tidy` has something to do: a seal due, or fewer than LOW blank lines left."""
        tail = self._tail
        if tail is None or not tail.laid_out or not tail.blocks:
            return False
        return self._seal_due(tail) or tail.reserved - tail.lines_needed < self.LOW

    @property
    def topping_up(self) -> bool:
        """Whether `tidy` only tops up the blank lines kept (no seal due): its layout is the
        cheapest (a seal's mounts new widgets)."""
        tail = self._tail
        return self.untidy and tail is not None and not self._seal_due(tail)

    def _seal_due(self, tail: LiveTail) -> bool:
        """Whether the tail's complete blocks go into a segment now: a table, quote or list
        the tail shows as source is complete (it renders then), or the tail holds more than a
        screen (what is sealed can fold)."""
        complete = tail.blocks[:-1]
        return bool(complete) and (
            any(block.kind == "source" for block in complete) or tail.lines_needed > self.screen.size.height
        )

    async def tidy(self) -> bool:
        """Seal the tail's complete blocks and top up the blank lines kept, when due
        (`untidy`): one layout. Called once a write is on screen, in the pause before the
        next, so that a layout seldom holds a token back. Whether it did either."""
        tail = self._tail
        if tail is None or not self.untidy:
            return False
        room = max(self.RESERVE, int(self.screen.size.height * self.RESERVE_SHARE)) + self.LOW
        sealed = self._seal_due(tail)
        if sealed:
            await self._seal(line_start(self._live_text, tail.blocks[-1].line))
        left = tail.reserved - tail.lines_needed
        if left < self.LOW or (sealed and left < room // 2):  # (a seal lays out anyway)
            tail.reserve(tail.lines_needed + room)
            return True
        return sealed

    async def _start_tail(self) -> LiveTail:
        """A tail under what is sealed (the text had ended: this one is written anew)."""
        looks = self._looks
        self._looks = looks if looks is not None else Looks()
        self._tail = LiveTail(self._looks, above=self._bottom_margin())
        await self.mount_all([self._tail] if looks is not None else [self._looks, self._tail])
        return self._tail

    async def _seal(self, end: int, *, drawn: bool = True) -> None:
        """Move the tail's text up to `end` (complete blocks) into segments above it: the
        blocks it draws as the lines it drew (`DrawnSegment`), the others as a Markdown
        (all of them, not `drawn`)."""
        sealed, self._live_text = self._live_text[:end], self._live_text[end:]
        tail = self._tail
        assert tail is not None and self._looks is not None
        if sealed:
            segments = [
                DrawnSegment(self._looks, text, above=0, drawn=tail) if as_drawn else StoredMarkdown(text)
                for as_drawn, text in (runs(sealed) if drawn else [(False, sealed)])
            ]
            with self.app.batch_update():  # laid out once all of it is mounted (`all_mounted`)
                await self.mount_all(segments, before=tail)
                for segment in segments:
                    await all_mounted(segment)
                    settle(segment)
                    keep_lines(segment)
                    self._place(segment)
            self._sealed_text += sealed
        tail.above = self._bottom_margin()
        tail.show(self._shown(self._live_text), sealed=True)

    def _place(self, segment: Widget) -> None:
        """Join a new segment to the one above: a drawn one starts below that one's bottom
        margin; a Markdown's first block takes a class for the gap (`_mend`)."""
        if isinstance(segment, DrawnSegment):
            segment.above = self._bottom_margin(segment)
        elif isinstance(segment, Markdown):
            self._mend(segment)

    @property
    def _has_drawn(self) -> bool:
        """Whether blocks were sealed as drawn (they draw with the looks: on a new width or theme)."""
        return any(isinstance(child, DrawnSegment) for child in self.children)

    @property
    def segments(self) -> list[Widget]:
        """The sealed segments, Markdown or drawn, top to bottom."""
        return [child for child in self.children if isinstance(child, (DrawnSegment, Markdown)) and not isinstance(child, Looks)]

    def _bottom_margin(self, before: Widget | None = None) -> int:
        """The bottom margin of the last block sealed (before segment `before`; 0 if none)."""
        segments = self.segments
        for segment in reversed(segments[: segments.index(before)] if before is not None else segments):
            if isinstance(segment, DrawnSegment):
                return segment.margin_below()
            if segment.children:
                return segment.children[-1].styles.margin.bottom
        return 0

    @staticmethod
    def _shown(live: str) -> str:
        """What of the tail's text to show: a fence's opening line waits for its end (a
        half info string, "pyt", would make Pygments look for a lexer it hasn't got, which
        loads every lexer plugin once: ~0.3 s)."""
        opener = _HALF_FENCE.search(live)
        return live[: opener.start()] if opener else live

    async def replace(self, text: str) -> None:
        """Show `text` instead of what is shown."""
        self._live_text, self._sealed_text = "", ""
        with self.app.batch_update():
            await self.remove_children()
            self.folding.forget()
            self._tail = self._looks = None
            await self._start_tail()
        await self.write(text)

    def _mend(self, markdown: Markdown) -> None:
        """Mend the gap above a segment whose first block has a top margin: the segment
        above counts its last block's bottom margin, which one Markdown would have collapsed
        with that top margin, so the first block takes a class with a top margin less their
        overlap. (The class stays if the theme changes margins later: a fence's, to none
        with an ANSI theme, leaves its gap a line too tall till the chat is opened again.)"""
        first = markdown.children[0] if markdown.children else None
        if first is None or any(first.has_class(name) for name in _MENDS):
            return
        top, right, bottom, left = first.styles.margin
        overlap = min(top, self._bottom_margin(markdown))
        mended = f"-m{top - overlap}{bottom}"
        if overlap and not (right or left) and mended in _MENDS:
            first.add_class(mended)

    def on_resize(self) -> None:
        if self.folding.folds and self.size.width != self.folding.width:
            self.folding.unfold()
