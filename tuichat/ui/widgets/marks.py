"""Classes on a message that no style inside it depends on (the message cursor), set
without restyling what is inside the message."""

from __future__ import annotations

from textual.widget import Widget


def set_mark(widget: Widget, name: str, on: bool) -> None:
    """Add (`on`) or remove class `name` on `widget`, restyling `widget` alone.

    Textual restyles every widget inside on a class change: 0.6 s for the 640 widgets of a
    12,000-character reply, on every cursor move. No style inside a message depends on its
    marks: a test holds the screen to what a full restyle paints."""
    if widget.has_class(name) == on:
        return
    widget.set_class(on, name, update=False)
    if widget.is_attached:
        widget.app.stylesheet.update_nodes([widget], animate=False)
