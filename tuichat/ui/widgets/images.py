"""Images drawn in the terminal with textual-image: coloured half-blocks (every terminal,
over SSH and in tmux), or with `TUICHAT_IMAGES=graphics` Kitty graphics or Sixel where the
terminal has them.

textual-image asks the terminal what it supports when first imported, which must happen
before Textual takes the terminal over: `probe_terminal`, called by the launcher before the
app starts, does that when asked to; otherwise textual-image is imported when the first
image shows, with the terminal hidden from it.

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
    """With `TUICHAT_IMAGES=graphics` and a terminal, let textual-image ask the terminal
    whether it draws Kitty graphics or Sixel: it must, before Textual takes the terminal over.
    Not by default: the questions and textual-image's imports (numpy, Pillow) cost about
    0.5 s at every start (measured in tmux), for images most chats never show."""
    if os.environ.get("TUICHAT_IMAGES") != "graphics":
        return
    if sys.__stdout__ is not None and sys.__stdout__.isatty():
        try:
            import textual_image.widget  # noqa: F401 - imported for its terminal queries
        except Exception:  # noqa: BLE001 - no graphics then: half-blocks still work
            pass


def _quiet_import() -> None:
    """Import textual-image inside a running app: its import asks the terminal what it
    supports when stdout is a terminal, and Textual would read the answers as keys; seen
    with no terminal, it asks nothing (and half-blocks need no answers)."""
    if "textual_image.widget" in sys.modules:
        return
    real = sys.__stdout__
    sys.__stdout__ = io.StringIO()  # type: ignore[misc]
    try:
        import textual_image.widget  # noqa: F401
    finally:
        sys.__stdout__ = real  # type: ignore[misc]


def _widget_class() -> type[Widget]:
    _quiet_import()
    from textual_image.renderable import Image as Auto
    from textual_image.widget import HalfcellImage, Image

    # Graphics only when the terminal was asked at start and has them; else half-blocks,
    # which show colour and shape in any terminal (textual-image's own fallback without a
    # terminal is plain Unicode blocks).
    if Auto.__module__.endswith((".unicode", ".halfcell")):
        return HalfcellImage  # type: ignore[no-any-return]
    return Image  # type: ignore[return-value]


def picture(data: bytes) -> tuple[Widget | None, str]:
    """A widget drawing the image in `data`, and its shape (`640×480 px`); or None and why
    it cannot be shown."""
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
