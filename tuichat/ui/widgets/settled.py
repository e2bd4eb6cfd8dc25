"""Widgets that skip work Textual would repeat for them: a second layout, a repaint of unchanged lines."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
    (which is what empties that cache), a new crop or other line filters.

    Its lines are alike when its edges are at its sides alone (a background, a left border):
    one is rendered and repeated. A streaming reply grows at every layout, and the styles
    cache rendered each of its lines anew: 40 µs a line, ~1 ms for a reply filling the screen,
    at each of its ~60 layouts, for the reply, its text and each segment on screen."""

    _kept: tuple[Region, tuple[int, ...], list[Strip]] | None = None
    draws_lines: ClassVar[bool] = False  # it draws content of its own (a scroll bar): lines differ

    def render_lines(self, crop: Region) -> list[Strip]:
        return _kept_lines(self, crop, _next_render_lines, _draws_nothing_of_its_own)  # type: ignore[arg-type]

    def _set_dirty(self, *regions: Region) -> None:
        self._kept = None
        super()._set_dirty(*regions)  # type: ignore[misc]


def keep_lines(subtree: Widget) -> None:
    """Keep the lines of every widget in `subtree` between its refreshes, as `KeptLines` does
    for tuichat's containers: Textual's Markdown blocks, a table's cells, a fence's code.
    Asked for its lines, each costs ~0.1 ms even when the styles cache holds them (its
    background looked up through every ancestor, its lines filtered), and the ~30 widgets of
    a section on screen (a table's cells, a list's rows) were asked at every write of a
    streaming reply: ~780 times for the bench's reply. Widgets that render their lines their
    own way are left as they are."""
    for widget in subtree.walk_children(with_self=True):
        if type(widget).render_lines is Widget.render_lines and "render_lines" not in vars(widget):
            widget.render_lines = MethodType(_render_kept, widget)  # type: ignore[method-assign]
            widget._set_dirty = MethodType(_set_dirty_kept, widget)  # type: ignore[method-assign]


def _render_kept(widget: Widget, crop: Region) -> list[Strip]:
    return _kept_lines(widget, crop, Widget.render_lines, _blank_container)


def _next_render_lines(widget: KeptLines, crop: Region) -> list[Strip]:
    return super(KeptLines, widget).render_lines(crop)  # type: ignore[misc, no-any-return]


def _draws_nothing_of_its_own(widget: KeptLines) -> bool:
    return not widget.draws_lines


def _blank_container(widget: Widget) -> bool:
    return type(widget).render is Widget.render and widget.is_container  # (it renders a blank background)


def _set_dirty_kept(widget: Widget, *regions: Region) -> None:
    widget._kept = None  # type: ignore[attr-defined]
    Widget._set_dirty(widget, *regions)


def _kept_lines(
    widget: Widget, crop: Region, render: Callable[[Widget, Region], list[Strip]], blank: Callable[[Widget], bool]
) -> list[Strip]:
    """`widget`'s lines in `crop`, as kept since its last refresh (`_set_dirty` forgets them);
    else rendered (`render`), one line for all when `blank` says it draws nothing of its own.
    Asked for every widget on screen at every write: nothing is built before the look-up."""
    filters = tuple(id(line_filter) for line_filter in widget.app.get_line_filters())  # (a theme's ANSI filter)
    kept = getattr(widget, "_kept", None)
    if kept is not None and kept[0] == crop and kept[1] == filters:
        return kept[2]
    if crop.height > 1 and blank(widget) and _lines_alike(widget):
        lines = render(widget, Region(crop.x, crop.y, crop.width, 1)) * crop.height
    else:
        lines = render(widget, crop)
    widget._kept = (crop, filters, lines)  # type: ignore[attr-defined]
    return lines


def _lines_alike(widget: Widget) -> bool:
    """Whether every line of a widget drawing nothing of its own renders alike: no edge above
    or below, no title, no hatch, no keyline."""
    styles = widget.styles
    return not (
        styles.border_top[0] or styles.border_bottom[0] or styles.outline_top[0] or styles.outline_bottom[0]
        or widget.border_title or widget.border_subtitle
        or (styles.has_rule("hatch") and styles.hatch != "none")
        or styles.keyline[0] != "none"
    )


class KeptScrollBar(KeptLines, ScrollBar):
    """A scroll bar whose lines are kept until it is refreshed (its position or size set)."""

    draws_lines = True
