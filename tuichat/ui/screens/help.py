"""F1 (and `?` outside a text field): tuichat's own keys, by screen, as bound now (see
keys_reference). Esc, F1 or `?` closes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from tuichat.ui.keys_reference import Section, sections
from tuichat.ui.screens.prompts import DialogScreen, stylesheet

KEY_WIDTH = 18  # columns for the keys before what they do


def render(found: list[Section]) -> Text:
    text = Text()
    for n, section in enumerate(found):
        if n:
            text.append("\n")
        text.append(section.title + "\n", style="bold underline")
        for line in section.lines:
            text.append(f"  {line.keys:<{KEY_WIDTH}}", style="bold")
            text.append(f" {line.what}\n")
    return text


class HelpScreen(DialogScreen[None]):
    """The keys of every screen, the one it was opened on first."""

    CSS_PATH = stylesheet(__file__)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark", "close", "Close", id="help.close"),
    ]
    AUTO_FOCUS = "#help-keys"

    def __init__(self, keymap: Mapping[str, str], first: str | None = None) -> None:
        super().__init__()
        self.rendered = render(sections(keymap, first))

    @property
    def text(self) -> str:
        """What the help says, as plain text."""
        return self.rendered.plain

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Keys"
            with VerticalScroll(id="help-keys"):
                yield Static(self.rendered)
            yield self.keys_hint(("↑↓ PgUp PgDn", "scroll"), ("Esc", "close"))

    def action_close(self) -> None:
        self.dismiss(None)
