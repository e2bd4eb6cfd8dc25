"""A keymap checked against the app's bindings: unknown ids, key names Textual does not know, and
keys another binding of the same screen already has.

Textual would take such an entry silently: an unknown id or a misspelt key does nothing, and a
clash moves the key, leaving the other binding with none (the README once remapped ctrl+t, the
stream toggle's key). Each is said, naming the entry and what to do, and left out.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, _normalize_key_list

# The modules whose classes declare bindings with ids (tests/ui/test_keymap.py checks that none is
# missing). A screen's scope is its own bindings, those of the widgets named in CONTAINS (the
# focused one is asked first) and the app's.
BINDING_MODULES: Final = (
    "tuichat.ui.app", "tuichat.ui.chat.screen", "tuichat.ui.widgets.prompt",
    "tuichat.ui.screens.event_call", "tuichat.ui.screens.follow_ups", "tuichat.ui.screens.model_picker",
    "tuichat.ui.screens.prompts", "tuichat.ui.screens.model_settings", "tuichat.ui.screens.chat_params",
    "tuichat.ui.screens.toggles", "tuichat.ui.screens.help", "tuichat.ui.screens.copy",
    "tuichat.ui.widgets.text_field", "tuichat.ui.widgets.chat_list", "tuichat.ui.widgets.conversation",
    "tuichat.ui.widgets.rich_pieces",
    "tuichat.ui.screens.search", "tuichat.ui.screens.valves_form", "tuichat.ui.screens.attach",
    "tuichat.ui.widgets.attachment_chips",
    "tuichat.ui.workshop.code_editor", "tuichat.ui.workshop.editor_screen", "tuichat.ui.workshop.history_screen",
    "tuichat.ui.workshop.host_log_screen", "tuichat.ui.workshop.install_dialog", "tuichat.ui.workshop.new_function",
    "tuichat.ui.workshop.pipes_screen", "tuichat.ui.workshop.unsaved_changes",
)  # fmt: skip
CONTAINS: Final = {"ChatScreen": ("Prompt", "AttachmentChips"), "AttachDialog": ("PathInput",), "EditorScreen": ("CodeEditor", "FindBar")}
CONTAINED: Final = frozenset(name for names in CONTAINS.values() for name in names)
MODIFIERS: Final = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})
NAMED_KEYS: Final = frozenset(key.value for key in Keys if "+" not in key.value and not key.value.startswith("<"))
# Printable ASCII by the names Textual gives them ("question_mark", "slash", ...).
CHARACTER_NAMES: Final = frozenset(_character_to_key(chr(code)) for code in range(33, 127))


@dataclass(frozen=True)
class Scope:
    """Where bindings are live together: a screen (or dialog) with its widgets and the app."""

    name: str
    bindings: tuple[Binding, ...]


def binding_classes() -> list[type[DOMNode]]:
    """Every tuichat class that declares a binding with an id."""
    classes: list[type[DOMNode]] = []
    for module_name in BINDING_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, DOMNode) and value.__module__ == module_name and _own_ids(value):
                classes.append(value)
    return classes


def _own_ids(cls: type[DOMNode]) -> list[str]:
    return [b.id for b in cls.__dict__.get("BINDINGS", []) if isinstance(b, Binding) and b.id]


def _merged(cls: type[DOMNode]) -> tuple[Binding, ...]:
    """A class's bindings with those it inherits (a TextArea's editing keys, a Screen's tab)."""
    return tuple(binding for bindings in cls._merge_bindings().key_to_bindings.values() for binding in bindings)


def scopes() -> list[Scope]:
    classes = binding_classes()
    by_name = {cls.__name__: cls for cls in classes}
    app = next(cls for cls in classes if cls.__name__ == "TuichatApp")
    found: list[Scope] = []
    for cls in classes:
        if cls is app or cls.__name__ in CONTAINED:
            continue
        members = [cls, *(by_name[name] for name in CONTAINS.get(cls.__name__, ()) if name in by_name), app]
        found.append(Scope(_scope_name(cls), tuple(b for member in members for b in _merged(member))))
    return found


def _scope_name(cls: type[DOMNode]) -> str:
    """`ChatScreen` → "the chat screen", `_EventDialog` → "the event dialog"."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in cls.__name__.lstrip("_")).split()
    return f"the {' '.join(words)}"


def bad_key(key: str) -> str | None:
    """Why `key` (one Textual key, like ctrl+shift+up) is not one, else None."""
    *modifiers, name = key.split("+")
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        return f"'{unknown[0]}' is not a modifier (use ctrl, shift, alt, meta or super)"
    if name in NAMED_KEYS or name in CHARACTER_NAMES or (len(name) == 1 and name.isprintable()):
        return None
    if name.lower() in NAMED_KEYS:
        return f"key names are lower case: write {'+'.join([*modifiers, name.lower()])}"
    close = difflib.get_close_matches(name, sorted(NAMED_KEYS | CHARACTER_NAMES), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"'{name}' is not a key name{hint}; names are like f11, ctrl+t, shift+up, escape, question_mark"


def check_keymap(wanted: Mapping[str, str], sources: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The entries of `wanted` that can be applied, and one line per entry that cannot."""
    all_scopes = scopes()
    known = {b.id for scope in all_scopes for b in scope.bindings if b.id}
    problems: list[str] = []
    usable: dict[str, str] = {}
    for binding_id, keys in wanted.items():
        where = f"{sources.get(binding_id, 'keymap')}: {binding_id}={keys}"
        if binding_id not in known:
            close = difflib.get_close_matches(binding_id, sorted(known), n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            problems.append(f"{where}: no binding has the id '{binding_id}'; {hint}ctrl+p lists every id beside its key")
            continue
        why = next((reason for key in _keys(keys) if (reason := bad_key(key))), None)
        if why is not None:
            problems.append(f"{where}: {why}")
            continue
        usable[binding_id] = keys
    for binding_id, keys in list(usable.items()):
        clash = _clash(binding_id, keys, usable, all_scopes)
        if clash is not None:
            problems.append(f"{sources.get(binding_id, 'keymap')}: {binding_id}={keys}: {clash}")
            del usable[binding_id]
    return usable, problems


def _keys(keys: str) -> list[str]:
    """One key string's keys, as Textual names them ("?" is question_mark)."""
    return [key.strip() for key in _normalize_key_list(keys).split(",") if key.strip()]


def _clash(binding_id: str, keys: str, keymap: Mapping[str, str], all_scopes: Iterable[Scope]) -> str | None:
    """Which binding of a screen where `binding_id` lives already answers one of `keys`."""
    for scope in all_scopes:
        mine = [b for b in scope.bindings if b.id == binding_id]
        if not mine:
            continue
        for other in scope.bindings:
            if other.id == binding_id or other.action == mine[0].action:
                continue
            taken = set(_keys(keymap[other.id])) if other.id in keymap else set(_keys(other.key))
            shared = sorted(taken & set(_keys(keys)))
            if shared:
                what = f"{other.id} ({other.description})" if other.id and other.description else (other.id or other.action)
                return (
                    f"{shared[0]} is already {what} on {scope.name}; pick another key"
                    + (f", or move {other.id} too" if other.id else "")
                )
    return None
