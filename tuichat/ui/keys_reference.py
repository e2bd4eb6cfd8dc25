"""The app's keys, by screen, as they are bound now: read from the screens' own `BINDINGS`
with the app's keymap applied (so a remapped key shows as remapped). The help screen (F1)
shows this; nothing here is written by hand but the keys Textual's widgets handle themselves
(Enter in the prompt, the dialogs' Enter and Tab)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap, BindingType

# Keys that are no binding (a widget handles them), said as the app behaves.
PROMPT_KEYS = [("enter", "Send the message")]
DIALOG_KEYS = [
    ("enter", "Submit a one-line field, press the focused button"),
    ("ctrl+j", "Submit a multi-line field (Enter adds a new line there)"),
    ("tab / shift+tab", "Next / previous field or button"),
    ("escape", "Cancel and close"),
]
SHOWN_KEYS = {"question_mark": "?", "escape": "esc", "enter": "enter", "space": "space", "delete": "del"}


@dataclass(frozen=True)
class KeyLine:
    keys: str  # "ctrl+f", or "t / space" for one action on several keys
    what: str


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[KeyLine]


def shown_key(key: str) -> str:
    return SHOWN_KEYS.get(key, key.replace("question_mark", "?"))


def bound_keys(bindings: Iterable[BindingType], keymap: Mapping[str, str]) -> list[KeyLine]:
    """Each described binding once, with every key it is on after `keymap`, in declared order."""
    bindings_map = BindingsMap(bindings)
    order: dict[str, int] = {}
    for key_bindings in bindings_map.key_to_bindings.values():
        for binding in key_bindings:
            order.setdefault(_one_action(binding), len(order))
    if keymap:
        bindings_map.apply_keymap(dict(keymap))
    found: dict[str, tuple[str, list[str]]] = {}
    for key, key_bindings in bindings_map.key_to_bindings.items():
        for binding in key_bindings:
            if not binding.description:
                continue
            what = f"{binding.description} ({binding.tooltip})" if binding.tooltip else binding.description
            found.setdefault(_one_action(binding), (what, []))[1].append(shown_key(key))
    ordered = sorted(found.items(), key=lambda item: order.get(item[0], len(order)))
    return [KeyLine(" / ".join(keys), what) for _, (what, keys) in ordered]


def _one_action(binding: Binding) -> str:
    """Bindings that do one thing share a line (F1 and `?` are two ids: one is priority)."""
    return f"{binding.action}\0{binding.description}"


def _lines(pairs: Iterable[tuple[str, str]]) -> list[KeyLine]:
    return [KeyLine(keys, what) for keys, what in pairs]


def sections(keymap: Mapping[str, str], first: str | None = None) -> list[Section]:
    """Every screen's keys; `first` (a section title) leads: the screen help was opened on."""
    from tuichat.ui.app import TuichatApp
    from tuichat.ui.chat.screen import ChatScreen
    from tuichat.ui.screens.attach import PathInput
    from tuichat.ui.widgets.attachment_chips import AttachmentChips
    from tuichat.ui.widgets.prompt import Prompt
    from tuichat.ui.workshop.editor_screen import EditorScreen
    from tuichat.ui.workshop.history_screen import HistoryScreen
    from tuichat.ui.workshop.pipes_screen import PipesScreen

    palette = [Binding(TuichatApp.COMMAND_PALETTE_BINDING, "command_palette", "Every action that applies now")]
    found = [
        Section("Chat", bound_keys(ChatScreen.BINDINGS, keymap)),
        Section("Prompt", _lines(PROMPT_KEYS) + bound_keys(Prompt.BINDINGS, keymap)),
        Section("Attachments", bound_keys([*PathInput.BINDINGS, *AttachmentChips.BINDINGS], keymap)),
        Section("Pipes screen", bound_keys(PipesScreen.BINDINGS, keymap)),
        Section("Pipe editor", bound_keys(EditorScreen.BINDINGS, keymap)),
        Section("Version history", bound_keys(HistoryScreen.BINDINGS, keymap)),
        Section("Dialogs", _lines(DIALOG_KEYS)),
        Section("Everywhere", bound_keys([*TuichatApp.BINDINGS, *palette], keymap)),
    ]
    found.sort(key=lambda section: section.title != first)
    return found


def section_for(screen_class_name: str) -> str | None:
    """The section of the screen help was opened on."""
    return {
        "ChatScreen": "Chat",
        "PipesScreen": "Pipes screen",
        "EditorScreen": "Pipe editor",
        "HistoryScreen": "Version history",
    }.get(screen_class_name)
