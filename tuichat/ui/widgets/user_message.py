"""A message the user sent, as the conversation shows it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tuichat.runtime.untrusted import neutralise
from tuichat.store.branches import Version
from tuichat.ui.widgets.attachment_chips import Chip, chips_text
from tuichat.ui.widgets.reply_parts import version_label
from tuichat.ui.widgets.when import stamp

CHIP_STYLE = "reverse dim"  # a sent message's attachments: chips that read on its $boost background


class UserMessage(Static):
    """A message the user sent, its time at the right of its first line, its attachments'
    chips under its text."""

    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 8;
        padding: 0 1;
        background: $boost;
        border-left: thick $accent;
    }
    """

    def __init__(
        self, text: str, message_id: str | None = None, version: Version | None = None, created_at: float | None = None,
        files: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.text = neutralise(text)  # a stored chat's text: shown, not obeyed
        shown = Text(self.text)
        if files:
            shown.append("\n")
            shown.append_text(chips_text((Chip.of_file(item) for item in files), CHIP_STYLE))
        if version is not None:
            shown.append(f"\n{version_label('', version)}", style="dim")
        self.shown = shown  # the text and, for one of several versions, `‹ 2/3 ›` under it
        super().__init__(shown)
        self.text = text  # as sent (copying neutralises it again)
        self.message_id = message_id
        self.version = version
        self.created_at = created_at
        self.files = list(files)

    def render(self) -> RenderableType:
        """The message, its time at the right of its first line."""
        if self.created_at is None:
            return self.shown
        grid = Table.grid(expand=True)
        grid.add_column(ratio=1)
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(self.shown, Text(" " + stamp(self.created_at), style="dim"))
        return grid
