"""Folding: hiding a run of a `layout: stream` container's children behind one blank spacer
of their height, so that layouts skip their widgets and nothing shown moves.

Widget count is what each layout costs. `Fold` hides what a streaming reply scrolled past
(above the view); `FoldBelow` hides what the user scrolled up away from in a long chat
(below the view). Both stack their folds and show them again nearest first.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Protocol, runtime_checkable

from textual.geometry import Size
from textual.widget import Widget

from tuichat.ui.widgets.settled import Settled


@runtime_checkable
class FoldsAbove(Protocol):
    """A scrolling container that folds what a streaming reply inside it pushed out of view."""

    def fold_above(self) -> None: ...


class FoldSpacer(Settled, Widget):
    """Blank lines standing in for folded widgets (a stream layout ignores a set height)."""

    DEFAULT_CSS = "FoldSpacer { height: auto; }"

    def __init__(self, lines: int) -> None:
        super().__init__()
        self.lines = lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.lines


class Fold:
    """Folds a run of a stream-layout container's children that ends above the viewport:
    hides them (`display: none`, so layouts skip their widgets) behind one blank spacer of
    their height, so nothing below moves. Widget count is what each layout costs, so while a
    reply streams, with the conversation at its end, the widgets it scrolled past are folded.

    The spacer has no margins: it starts below the bottom margin of the child above (where
    the first folded child's top margin, collapsed with that one, started it) and ends where
    the first child left shown starts, less that child's top margin. A new height is a new
    spacer: a stream layout keeps the placements of the children before the first one that
    asked for a layout, so a spacer whose height changed could keep its old one for a frame.

    Folds stack; `unfold` shows them all at once (a scroll up, a new width: where content
    must be there now)."""

    def __init__(self, container: Widget) -> None:
        self.container = container
        self.spacer: FoldSpacer | None = None
        self.folds: list[tuple[list[Widget], int]] = []  # (children, spacer height before)
        self.width = 0

    @property
    def folded(self) -> int:
        """How many children are folded."""
        return sum(len(children) for children, _ in self.folds)

    def fold(self, above: int, least: int = 0) -> None:
        """Fold the children shown after the spacer that end above screen row `above`, if
        they are `least` lines tall or more (each fold costs a layout or two); never the last
        child, nor one whose next sibling has not been laid out yet."""
        container = self.container
        if self.folds and container.size.width != self.width:
            self.unfold()
        spacer = self.spacer
        children = list(container.children)
        start = children.index(spacer) + 1 if spacer is not None else 0
        shown = [child for child in children[start:] if child.display]
        folding: list[Widget] = []
        for child, after in pairwise(shown):
            if not child.region or child.region.bottom > above or not after.region:
                break
            folding.append(child)
        if not folding or folding[-1].region.bottom - folding[0].region.y < least:
            return
        keep = shown[len(folding)]
        if spacer is not None:
            if not spacer.region:
                return  # not laid out yet: fold at the next call
            top, height_before = spacer.region.y, spacer.lines
        else:
            # Where the spacer (no margins) will start: below the margin of the child above.
            first = folding[0]
            above_child = next((c for c in reversed(children[: children.index(first)]) if c.display), None)
            top = first.region.y - first.styles.margin.top
            if above_child is not None:
                margin = above_child.styles.margin.bottom
                top = first.region.y - max(margin, first.styles.margin.top) + margin
            height_before = 0
        # The stream and vertical layouts collapse margins between siblings: `keep` follows
        # the spacer after its own top margin.
        self._respace(keep.region.y - keep.styles.margin.top - top, before=folding[0])
        for child in folding:
            child.display = False
        self.folds.append((folding, height_before))
        self.width = container.size.width

    def unfold(self) -> None:
        """Show the folded children."""
        while self.folds:
            self._pop()

    def unfold_shown(self, top: int) -> bool:
        """Show the nearest fold if its spacer reaches below screen row `top`, into view
        (what was under it shrank, and the view, at the end, followed it up); whether it did.
        Its new spacer is placed at the next layout: ask again then."""
        spacer = self.spacer
        if not self.folds or spacer is None or not spacer.region or spacer.region.bottom <= top:
            return False
        self._pop()
        return True

    def forget(self) -> None:
        """The container's children were all removed."""
        self.spacer, self.folds = None, []

    def _pop(self) -> None:
        children, height = self.folds.pop()
        for child in children:
            child.display = True
        self._respace(height if self.folds else 0)

    def _respace(self, lines: int, before: Widget | None = None) -> None:
        """A spacer of `lines` (none if 0) where the spacer is, or before `before`."""
        old, self.spacer = self.spacer, None
        if lines:
            self.spacer = FoldSpacer(lines)
            self.container.mount(self.spacer, before=old if old is not None else before)
        if old is not None:
            old.display = False
            old.remove()



class FoldBelow:
    """Hides the children far below the viewport behind a spacer of their height.

    Runs are folded bottom first, as the user scrolls up, so they stack: the last one folded
    is the nearest, and unfolds first. The spacer sits before the top run, no margins: it
    starts below the bottom margin of the child above (where the run's first child's top
    margin, collapsed with that one, started it) and ends where the conversation ended.
    A new height is a new spacer (a stream layout could keep a changed one's old height
    for a frame)."""

    def __init__(self, container: Widget) -> None:
        self.container = container
        self.spacer: FoldSpacer | None = None
        self.folds: list[tuple[list[Widget], int]] = []  # (children, spacer lines before)
        self.width = 0

    @property
    def folded(self) -> int:
        return sum(len(children) for children, _ in self.folds)

    def fold(self, below: int) -> None:
        """Fold the shown children from the first one whose top is below screen row `below`
        down to the spacer (or the end), unless a reply there is still streaming."""
        container = self.container
        if self.folds and container.size.width != self.width:
            self.unfold()
        children = list(container.children)
        end = children.index(self.spacer) if self.spacer is not None else len(children)
        run: list[Widget] = []
        for child in reversed(children[:end]):
            if not child.display:
                continue
            if not child.region or child.region.y < below or getattr(child, "streaming", False):
                break
            run.insert(0, child)
        if not run or (self.spacer is None and getattr(children[-1], "streaming", False)):
            return
        first, last = run[0], run[-1]
        above = next((c for c in reversed(children[: children.index(first)]) if c.display), None)
        margin = above.styles.margin.bottom if above is not None else 0
        top = first.region.y - max(margin, first.styles.margin.top) + margin
        if self.spacer is not None:
            if not self.spacer.region:
                return  # not laid out yet: fold at the next call
            bottom, lines_before = self.spacer.region.bottom, self.spacer.lines
        else:
            bottom, lines_before = last.region.bottom + last.styles.margin.bottom, 0
        self._respace(bottom - top, before=first)
        for child in run:
            child.display = False
        self.folds.append((run, lines_before))
        self.width = container.size.width

    def unfold(self, *, one: bool = False) -> None:
        """Show the nearest fold (`one`) or all of them."""
        while self.folds:
            run, lines = self.folds.pop()
            for child in run:
                child.display = True
            after = self.folds[-1][0][0] if self.folds else None
            self._respace(lines if self.folds else 0, before=after)
            if one:
                break

    def forget(self) -> None:
        self.spacer, self.folds = None, []

    def _respace(self, lines: int, before: Widget | None) -> None:
        old, self.spacer = self.spacer, None
        if lines and before is not None:
            self.spacer = FoldSpacer(lines)
            self.container.mount(self.spacer, before=before)
        if old is not None:
            old.display = False
            old.remove()
