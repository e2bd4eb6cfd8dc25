"""Widgets whose new size needs no second layout."""

from __future__ import annotations

from textual.geometry import Size


class Settled:
    """A mixin for a widget whose size, set by a layout that has already placed everything
    inside it, needs no second layout. Textual lays a widget out again whenever a layout
    changes its virtual size, which doubled the layouts a streaming reply cost; a scrollable
    widget still updates its scrollbars (that part of `_size_updated` doesn't depend on it)."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)  # type: ignore[misc]
