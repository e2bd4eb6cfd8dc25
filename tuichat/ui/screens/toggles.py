"""This chat's toggles and tools (F10 in the chat), as the switches and the "+" menu under
Open WebUI's message box. Toggles: the toggle filters the chat's model offers (a filter whose
instance has a truthy `toggle`, active, global or attached to the model); what is on goes to
each turn as `filter_ids`. Tools: every stored tool; what is selected goes to each turn as
`tool_ids`, with the tools the model has attached (`meta.toolIds`, shown selected and locked:
they are the model's, changed in its settings).

Keys: ↑↓ move, Tab to the other list, space switches, Enter saves, Escape cancels. Dismisses
with the chat's choices, or None."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from tuichat.runtime.chat_tools import ToolChoice
from tuichat.runtime.filter_facts import Toggle
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.screens.prompts import DialogScreen, stylesheet

NO_TOGGLES = (
    "This model has no toggles. A toggle is a filter whose code sets `self.toggle = True`; it "
    "shows here when it is on (F7, t), and global (F7, a) or attached to this model (F7, m)."
)
NO_TOOLS = "No tools are stored: add a `class Tools` module on the pipes screen (F7, i) or with `tuichat tools add FILE`."


@dataclass(frozen=True)
class ChatChoices:
    """What the dialog saves: the chat's toggles on and its own tools selected."""

    filter_ids: list[str]
    tool_ids: list[str]


def toggle_label(toggle: Toggle) -> str:
    name = neutralise(toggle.name)  # the filter's frontmatter: its author wrote it
    label = name if name == toggle.id else f"{name}  ({toggle.id})"
    if toggle.description:
        label += f" · {neutralise(toggle.description)}"
    return label


def tool_label(tool: ToolChoice) -> str:
    """`Weather  (weather) · Get the weather · the model's`."""
    name = neutralise(tool.name)
    parts = [name if name == tool.id else f"{name}  ({neutralise(tool.id)})"]
    if tool.description:
        parts.append(neutralise(tool.description))
    if tool.from_model:
        parts.append("the model's")
    if tool.problem:
        parts.append(neutralise(tool.problem))
    return " · ".join(parts)


class TogglesScreen(DialogScreen[ChatChoices | None]):
    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("enter,f2,ctrl+j", "save", "Save", id="toggles.save", priority=True),
    ]

    def __init__(
        self, toggles: list[Toggle], selected: list[str], *, tools: list[ToolChoice] | None = None,
        tool_ids: list[str] | None = None, model_name: str = "",
    ) -> None:  # fmt: skip
        super().__init__()
        self.toggles = toggles
        self.selected = [fid for fid in selected if fid in {t.id for t in toggles}]
        self.kept = [fid for fid in selected if fid not in self.selected]  # on, but not this model's: kept
        self.tools = tools or []
        self.tool_ids = list(tool_ids or [])
        self.model_name = model_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Toggles and tools for this chat"
            if self.model_name:
                dialog.border_subtitle = neutralise(self.model_name)
            yield Label("Toggles", classes="toggles--heading")
            if self.toggles:
                yield SelectionList[str](
                    *(Selection(toggle_label(t), t.id, t.id in self.selected) for t in self.toggles), id="toggles", compact=True
                )
            else:
                yield Static(NO_TOGGLES, classes="toggles--none", markup=False)
            yield Label("Tools", classes="toggles--heading")
            if self.tools:
                yield SelectionList[str](
                    *(Selection(tool_label(t), t.id, t.from_model or t.id in self.tool_ids, disabled=t.from_model)
                      for t in self.tools), id="tools", compact=True,
                )  # fmt: skip
            else:
                yield Static(NO_TOOLS, classes="toggles--none", markup=False)
            if self.toggles or self.tools:
                yield self.keys_hint(("↑↓ Tab", "move"), ("Space", "on/off"), ("Enter", "save"), ("Esc", "cancel"))
            else:
                yield self.keys_hint(("Esc", "close"))

    def action_save(self) -> None:
        if not self.toggles and not self.tools:
            self.dismiss(None)
            return
        filter_ids = list(self.selected) + self.kept
        if self.toggles:
            chosen = self.query_one("#toggles", SelectionList).selected
            filter_ids = [t.id for t in self.toggles if t.id in chosen] + self.kept
        tool_ids = self.tool_ids
        if self.tools:
            picked = self.query_one("#tools", SelectionList).selected
            tool_ids = [t.id for t in self.tools if t.id in picked and not t.from_model]
        self.dismiss(ChatChoices(filter_ids, tool_ids))

    def action_cancel(self) -> None:
        self.dismiss(None)
