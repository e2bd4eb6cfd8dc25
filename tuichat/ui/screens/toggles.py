"""This chat's toggles (F10 in the chat): the toggle filters the chat's model offers (a
filter whose instance has a truthy `toggle`, active, global or attached to the model), each
switched on or off for this chat, as the switches under Open WebUI's message box. What is on
goes to each turn as `filter_ids`. Tools join this list in a later version.

Keys: ↑↓ move, space switches, Enter saves, Escape cancels. Dismisses with the ids switched
on, or None."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from tuichat.runtime.filter_facts import Toggle
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.screens.prompts import DialogScreen, stylesheet

NO_TOGGLES = (
    "This model has no toggles. A toggle is a filter whose code sets `self.toggle = True`; it "
    "shows here when it is on (F7, t), and global (F7, a) or attached to this model (F7, m)."
)


def toggle_label(toggle: Toggle) -> str:
    name = neutralise(toggle.name)  # the filter's frontmatter: its author wrote it
    label = name if name == toggle.id else f"{name}  ({toggle.id})"
    if toggle.description:
        label += f" · {neutralise(toggle.description)}"
    return label


class TogglesScreen(DialogScreen[list[str] | None]):
    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("enter,f2,ctrl+j", "save", "Save", id="toggles.save", priority=True),
    ]

    def __init__(self, toggles: list[Toggle], selected: list[str], *, model_name: str = "") -> None:
        super().__init__()
        self.toggles = toggles
        self.selected = [fid for fid in selected if fid in {t.id for t in toggles}]
        self.kept = [fid for fid in selected if fid not in self.selected]  # on, but not this model's: kept
        self.model_name = model_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Toggles for this chat"
            if self.model_name:
                dialog.border_subtitle = neutralise(self.model_name)
            if self.toggles:
                yield SelectionList[str](
                    *(Selection(toggle_label(t), t.id, t.id in self.selected) for t in self.toggles), id="toggles", compact=True
                )
                yield self.keys_hint(("↑↓", "move"), ("Space", "on/off"), ("Enter", "save"), ("Esc", "cancel"))
            else:
                yield Static(NO_TOGGLES, classes="toggles--none", markup=False)
                yield self.keys_hint(("Esc", "close"))

    def action_save(self) -> None:
        if not self.toggles:
            self.dismiss(None)
            return
        chosen = self.query_one(SelectionList).selected
        self.dismiss([t.id for t in self.toggles if t.id in chosen] + self.kept)

    def action_cancel(self) -> None:
        self.dismiss(None)
