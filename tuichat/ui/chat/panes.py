"""Which side panes show: the stored choice, except in a small terminal.

Small terminals hide the side panes so the conversation keeps its room: the chat list
below NARROW columns, the activity pane below SHORT rows. f2/f3 still show them (for this
session, while the terminal stays that small); the stored preference is for larger terminals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tuichat.store import Store

Pane = Literal["sidebar", "activity"]
ACTIVITY_OPEN = "activity_open"
SIDEBAR_OPEN = "sidebar_open"
NARROW = 100  # columns: a narrower terminal hides the chat list (28 columns) unless f2 shows it
SHORT = 30  # rows: a shorter terminal hides the activity pane (8 rows) unless f3 shows it
SETTINGS: dict[Pane, str] = {"sidebar": SIDEBAR_OPEN, "activity": ACTIVITY_OPEN}


@dataclass
class Panes:
    """The panes shown for a terminal size, from the stored preferences and the choices made
    while the terminal is small (those last until it stops being small)."""

    preferences: dict[Pane, bool] = field(default_factory=lambda: {"sidebar": True, "activity": True})
    _choices: dict[Pane, bool] = field(default_factory=dict)
    _compact: dict[Pane, bool] = field(default_factory=dict)

    async def load(self, store: Store) -> None:
        for pane, setting in SETTINGS.items():
            self.preferences[pane] = bool(await store.settings.get(setting, True))

    @staticmethod
    def compact(pane: Pane, width: int, height: int) -> bool:
        return width < NARROW if pane == "sidebar" else height < SHORT

    def shown(self, width: int, height: int) -> dict[Pane, bool]:
        """Whether each pane shows at this terminal size."""
        result: dict[Pane, bool] = {}
        for pane in SETTINGS:
            compact = self.compact(pane, width, height)
            if compact != self._compact.get(pane, compact):
                self._choices.pop(pane, None)
            self._compact[pane] = compact
            result[pane] = self._choices.get(pane, False) if compact else self.preferences[pane]
        return result

    async def toggle(self, pane: Pane, shown_now: bool, width: int, height: int, store: Store) -> None:
        """Show a hidden pane or hide a shown one; stored unless the terminal is small."""
        if self.compact(pane, width, height):
            self._choices[pane] = not shown_now  # only for now: the stored choice is for larger terminals
        else:
            self.preferences[pane] = not shown_now
            await store.settings.set(SETTINGS[pane], not shown_now)
