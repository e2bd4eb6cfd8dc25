"""Images drawn in the terminal with textual-image: Kitty graphics or Sixel where the
terminal has them, coloured half-blocks otherwise (every terminal, over SSH and in tmux).

textual-image asks the terminal what it supports when first imported, which must happen
before Textual takes the terminal over: `probe_terminal` is called by the launcher, before
the app starts. Without that (tests, no terminal), images are drawn in half-blocks.

An image is decoded once and scaled down to at most MOST_PIXELS a side, so drawing it again
(a scroll, a resize) stays cheap whatever size it came in.
"""

from __future__ import annotations

import io
import math
import os
import sys
import warnings

from textual.widget import Widget

MOST_PIXELS = 640  # the longest side an image is kept at, in pixels
MOST_CELLS = 60  # the widest an image is drawn, in columns
LEAST_CELLS = 24  # the narrowest, for an image this many pixels wide or more


def probe_terminal() -> None:
    """Let textual-image find the terminal's graphics support (only with a terminal: in a
    running app the import would ask the terminal, whose answers Textual would read)."""
    if sys.__stdout__ is not None and sys.__stdout__.isatty():
        try:
            import textual_image.widget  # noqa: F401 - imported for its terminal queries
        except Exception:  # noqa: BLE001 - no graphics then: half-blocks still work
            pass


def _widget_class() -> type[Widget]:
    from textual_image.renderable import Image as Auto
    from textual_image.renderable import UnicodeImage
    from textual_image.widget import HalfcellImage, Image

    # Without a terminal textual-image falls back to plain Unicode blocks; half-blocks show
    # colour and shape, and are what a terminal without graphics gets. TUICHAT_IMAGES=halfblocks
    # chooses them where a terminal's graphics misbehave.
    if Auto is UnicodeImage or os.environ.get("TUICHAT_IMAGES") == "halfblocks":
        return HalfcellImage  # type: ignore[no-any-return]
    return Image  # type: ignore[return-value]


def picture(data: bytes) -> tuple[Widget | None, str]:
    """A widget drawing the image in `data`, and its shape (`640×480 px`); or None and why
    it cannot be shown."""
    if "textual_image.widget" not in sys.modules and sys.__stdout__ is not None and sys.__stdout__.isatty():
        return None, "the terminal was not asked which graphics it has (start the app with `tuichat`)"
    try:
        from PIL import Image as PILImage
    except ImportError:
        return None, "Pillow is not installed"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a decompression-bomb warning: it is scaled anyway
            image = PILImage.open(io.BytesIO(data))
            shape = f"{image.width}×{image.height} px"
            image.draft("RGB", (MOST_PIXELS, MOST_PIXELS))  # JPEG: decode at a smaller scale
            image.thumbnail((MOST_PIXELS, MOST_PIXELS))
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except Exception as error:  # noqa: BLE001 - any decoder error: said in one line
        return None, f"{type(error).__name__}: {error}".splitlines()[0][:120]
    try:
        widget = _widget_class()(image)
    except Exception as error:  # noqa: BLE001
        return None, f"cannot draw it here: {error}"
    # Its own size in cells, but at least a pixel a column up to LEAST_CELLS (a small
    # image drawn in half-blocks would be a few cells), and at most MOST_CELLS.
    widget.styles.width = min(MOST_CELLS, max(_natural_cells(image.width), min(image.width, LEAST_CELLS)))
    widget.styles.height = "auto"
    return widget, shape


def _natural_cells(width: int) -> int:
    """Columns the image takes at its own size (one pixel per cell for half-blocks)."""
    try:
        from textual_image._terminal import get_cell_size

        cell = get_cell_size().width or 10
    except Exception:  # noqa: BLE001
        cell = 10
    return max(1, math.ceil(width / cell))
