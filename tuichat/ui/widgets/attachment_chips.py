"""Attachments shown as chips: the pending ones above the prompt, and a sent message's.

A chip is one line of text, `▣ cat.png 12 KB` for an image, `≡ notes.md 812 B` for a file;
the row wraps when they do not fit. The pending row is one focusable widget (not a widget a
chip): Up from the prompt's first line (or shift+tab) reaches it, left/right pick a chip,
Delete or Backspace removes it, Esc or Down go back to the prompt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from tuichat.runtime.attachments import Attachment, format_size
from tuichat.runtime.untrusted import neutralise

IMAGE_MARK = "▣"
FILE_MARK = "≡"


@dataclass(frozen=True)
class Chip:
    name: str
    size: int
    image: bool

    @classmethod
    def of(cls, attachment: Attachment) -> Chip:
        return cls(attachment.name, attachment.size, attachment.kind == "image")

    @classmethod
    def of_file(cls, item: Mapping[str, Any]) -> Chip:
        """A stored message's file item (type, name, size, content_type)."""
        size = item.get("size")
        return cls(str(item.get("name") or "?"), size if isinstance(size, int) else 0, item.get("type") == "image")

    def label(self) -> str:
        # A file's name is the user's, but a stored chat may hold anything: shown, not obeyed.
        return f" {IMAGE_MARK if self.image else FILE_MARK} {neutralise(self.name)} {format_size(self.size)} "


def chips_text(chips: Iterable[Chip], style: Style | str = "", cursor: int | None = None,
               cursor_style: Style | str = "reverse") -> Text:
    """The chips on one line (wrapping between chips, not inside one), `cursor` marked."""
    text = Text()
    for index, chip in enumerate(chips):
        if index:
            text.append(" ")
        text.append(chip.label(), style=cursor_style if index == cursor else style)
    return text


class AttachmentChips(Static, can_focus=True):
    """The attachments that go with the next message; hidden while there are none."""

    COMPONENT_CLASSES = {"chips--chip", "chips--cursor", "chips--hint"}
    # Default CSS from the .tcss beside this module (a widget has no CSS_PATH).
    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text(encoding="utf-8")

    BINDINGS = [
        Binding("left", "move(-1)", "Previous chip", id="attach.previous", show=False),
        Binding("right", "move(1)", "Next chip", id="attach.next", show=False),
        Binding("delete,backspace", "remove", "Remove", id="attach.remove", key_display="del",
                tooltip="the chip picked: not sent"),
        Binding("escape,down", "leave", "Prompt", id="attach.leave", tooltip="back to the prompt"),
    ]

    cursor: reactive[int] = reactive(0)

    class Left(Message):
        """The user is done with the chips: focus goes back to the prompt."""

    class Removed(Message):
        """A chip was removed (the pending list changed)."""

        def __init__(self, attachment: Attachment) -> None:
            super().__init__()
            self.attachment = attachment

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self.attachments: list[Attachment] = []

    def set(self, attachments: Iterable[Attachment]) -> None:
        """Show these as the pending attachments."""
        self.attachments = list(attachments)
        self.cursor = min(self.cursor, max(0, len(self.attachments) - 1))
        self._changed()

    def add(self, attachment: Attachment) -> None:
        """One more (the same file again replaces the one there)."""
        self.attachments = [a for a in self.attachments if a.path != attachment.path] + [attachment]
        self._changed()

    def take(self) -> list[Attachment]:
        """All of them, leaving none (the message is being sent)."""
        taken, self.attachments = self.attachments, []
        self._changed()
        return taken

    def _changed(self) -> None:
        self.set_class(bool(self.attachments), "-some")
        if not self.attachments and self.has_focus:
            self.post_message(self.Left())
        self.refresh(layout=True)

    def render(self) -> Text:
        cursor = self.cursor if self.has_focus else None
        text = chips_text(
            (Chip.of(a) for a in self.attachments),
            self.get_component_rich_style("chips--chip"),
            cursor,
            self.get_component_rich_style("chips--cursor"),
        )
        hint = "  ←→ pick · del remove · esc back" if self.has_focus else "  ↑ to remove"
        text.append(hint, style=self.get_component_rich_style("chips--hint"))
        return text

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh(layout=True)  # the hint changes length: the row may wrap to another line

    def on_blur(self) -> None:
        self.refresh(layout=True)

    def action_move(self, step: int) -> None:
        if self.attachments:
            self.cursor = (self.cursor + step) % len(self.attachments)

    def action_remove(self) -> None:
        if not self.attachments:
            return
        removed = self.attachments.pop(self.cursor)
        self.cursor = min(self.cursor, max(0, len(self.attachments) - 1))
        self._changed()
        self.post_message(self.Removed(removed))

    def action_leave(self) -> None:
        self.post_message(self.Left())
