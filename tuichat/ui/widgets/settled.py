"""Widgets whose new size needs no second layout."""

from __future__ import annotations

from functools import partial

from textual.geometry import Size
from textual.widget import Widget


class Settled:
    """A mixin for a widget whose size, set by a layout that has already placed everything
    inside it, needs no second layout. Textual lays a widget out again whenever a layout
    changes its virtual size, which doubled the layouts a streaming reply cost; a scrollable
    widget still updates its scrollbars (that part of `_size_updated` doesn't depend on it)."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)  # type: ignore[misc]


def _settled_size_updated(
    widget: Widget, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
) -> bool:
    return Widget._size_updated(widget, size, virtual_size, container_size, layout=False)


def settle_tree(root: Widget) -> None:
    """Make every widget under `root` settle as `Settled` does. The widgets a Markdown builds
    inside its blocks (list items' rows and columns, bullets, table cells, a fence's label)
    are Textual's own classes; each asked for a second layout of the whole screen whenever
    the first one changed its size (a third of a streaming reply's layouts)."""
    for widget in root.walk_children(with_self=False):
        if "_size_updated" not in widget.__dict__ and not isinstance(widget, Settled):
            widget._size_updated = partial(_settled_size_updated, widget)  # type: ignore[method-assign]
