"""Widgets that skip work Textual would repeat for them: a second layout, a repaint of unchanged lines."""

from __future__ import annotations

import asyncio
from types import MethodType
from typing import ClassVar

from textual.geometry import Region, Size
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget


async def all_mounted(widget: Widget) -> None:
    """Until every widget under `widget` is mounted. Awaiting a mount waits for the widgets
    mounted, not for those their children compose (a list's items, a fence's code): a layout
    in between measured a list with no items, and a stream layout kept its height (none)."""
    while pending := [child for child in widget.walk_children() if not child.is_mounted]:
        await asyncio.wait([asyncio.create_task(child._mounted_event.wait()) for child in pending])


class Settled:
    """A mixin for a widget whose size, set by a layout that has already placed everything
    inside it, needs no second layout. Textual lays a widget out again whenever a layout
    changes its virtual size, which doubled the layouts a streaming reply cost; a scrollable
    widget still updates its scrollbars (that part of `_size_updated` doesn't depend on it)."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)  # type: ignore[misc]


def _size_updated_once(widget: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
    return type(widget)._size_updated(widget, size, virtual_size, container_size, layout=False)


def _size_updated_first(widget: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
    del widget._size_updated  # (the instance's: later sizes lay it out again, as Textual does)
    return type(widget)._size_updated(widget, size, virtual_size, container_size, layout=False)


def settle(subtree: Widget, *, for_good: bool = True) -> None:
    """Let a subtree just mounted (all of it: `all_mounted`), and not laid out yet, be laid
    out once. Textual lays each new widget out a second time: a refresh asked while it was
    composed (a block's text set), its first size (`Settled`), and a scrollbar its
    `overflow: scroll` shows at that size each ask for one more layout of the screen, which
    the widget's first layout has made needless (a sealed segment of a streaming reply cost
    two layouts; 40 of 137 for a 12,000-character reply). `for_good`: its later sizes don't
    lay it out either (a sealed segment's blocks never change); otherwise only its first."""
    resized = _size_updated_once if for_good else _size_updated_first
    for widget in subtree.walk_children(with_self=True):
        widget._layout_required = False
        widget._size_updated = MethodType(resized, widget)  # type: ignore[method-assign]
        styles = widget.styles
        if styles.overflow_x == "scroll":
            widget.horizontal_scrollbar.display = True
        if styles.overflow_y == "scroll":
            widget.vertical_scrollbar.display = True


class KeptLines:
    """A mixin for a container whose own lines (its background, under its children) change
    only when it is refreshed. Textual asks every widget whose clip overlaps a repaint for all
    its visible lines, so each write of a streaming reply re-rendered every segment on screen
    and the column around them, line by line from the styles cache: kept here until a refresh
    (which is what empties that cache) or a new crop.

    Its lines are alike when its edges are at its sides alone (a background, a left border):
    one is rendered and repeated. A streaming reply grows at every layout, and the styles
    cache rendered each of its lines anew: 40 µs a line, ~1 ms for a reply filling the screen,
    at each of its ~60 layouts, for the reply, its text and each segment on screen."""

    _kept: tuple[Region, list[Strip]] | None = None
    draws_lines: ClassVar[bool] = False  # it draws content of its own (a scroll bar): lines differ

    def render_lines(self, crop: Region) -> list[Strip]:
        kept = self._kept
        if kept is not None and kept[0] == crop:  # (`_set_dirty` is what marks lines to render anew)
            return kept[1]
        render = super().render_lines  # type: ignore[misc]
        if crop.height > 1 and self._lines_alike():
            lines: list[Strip] = render(Region(crop.x, crop.y, crop.width, 1)) * crop.height
        else:
            lines = render(crop)
        self._kept = (crop, lines)
        return lines

    def _lines_alike(self) -> bool:
        """Whether every line of it renders alike: it draws nothing of its own (a container),
        with no edge above or below, no title and no hatch."""
        styles = self.styles  # type: ignore[attr-defined]
        return not (
            self.draws_lines or
            styles.border_top[0] or styles.border_bottom[0] or styles.outline_top[0] or styles.outline_bottom[0]
            or self.border_title or self.border_subtitle  # type: ignore[attr-defined]
            or (styles.has_rule("hatch") and styles.hatch != "none")
        )

    def _set_dirty(self, *regions: Region) -> None:
        self._kept = None
        super()._set_dirty(*regions)  # type: ignore[misc]


class KeptScrollBar(KeptLines, ScrollBar):
    """A scroll bar whose lines are kept until it is refreshed (its position or size set)."""

    draws_lines = True
