"""Pick one of a reply's follow-up suggestions to send, as clicking one does on Open WebUI's
chat page. Enter sends the highlighted one, 1-5 send by number, Escape closes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tuichat.runtime.untrusted import neutralise
from tuichat.ui.screens.prompts import DialogScreen, stylesheet


class FollowUpScreen(DialogScreen[str | None]):
    """The suggestions (a model's words: neutralised) in a list; the result is the one chosen."""

    CSS_PATH = stylesheet(__file__)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Close", id="dialog.cancel"),
        *(Binding(str(n), f"send({n - 1})", f"Send {n}", show=False, id=f"follow_ups.send_{n}") for n in range(1, 6)),
    ]
    AUTO_FOCUS = "#follow-ups"

    def __init__(self, suggestions: Sequence[str]) -> None:
        super().__init__()
        self.suggestions = list(suggestions)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Send a follow-up"
            yield OptionList(
                *(Option(f"{n}  {' '.join(neutralise(text).split())}") for n, text in enumerate(self.suggestions, 1)),
                id="follow-ups",
            )
            yield self.keys_hint(("Enter", "send"), ("1-5", "send that one"), ("Esc", "close"))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_send(self, index: int) -> None:
        if 0 <= index < len(self.suggestions):
            self.dismiss(self.suggestions[index])

    @on(OptionList.OptionSelected, "#follow-ups")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.action_send(event.option_index)
