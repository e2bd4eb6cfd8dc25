"""Where remapped keys come from: `TUICHAT_KEYMAP`, then the config file, then the store.

Every binding has an id (the command palette shows it), so a key is remapped by id:
`TUICHAT_KEYMAP="chat.new=ctrl+t,chat.stream=f11"`, or in `config.toml` in the user config folder
(`~/.config/tuichat/config.toml` on Linux)::

    [keymap]
    "chat.new" = "ctrl+t"
    "chat.stream" = "f11"
    "model.pick" = ["ctrl+o", "alt+o"]   # several keys for one binding

The environment wins over the file for the ids both name. What is wrong (a line that is not
`id=keys`, a file that is not TOML, an unknown id, a key Textual has no name for, a key another
binding of the same screen already has) is said at start, on stderr and as a toast, and that
entry is left out: the binding keeps its own key (`keymap_check`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import platformdirs

KEYMAP_ENV: Final = "TUICHAT_KEYMAP"
CONFIG_NAME: Final = "config.toml"


@dataclass(frozen=True)
class Keymap:
    """The remapping to apply (binding id → Textual key list) and what was wrong with the rest."""

    bindings: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def config_path() -> Path:
    return Path(platformdirs.user_config_dir("tuichat")) / CONFIG_NAME


def load_keymap(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Keymap:
    """The keymap from the config file and `TUICHAT_KEYMAP` (the environment wins), checked
    against the app's bindings when there is any (importing the screens costs a moment)."""
    environ = os.environ if environ is None else environ
    from_file, file_problems = read_config(path or config_path())
    from_env, env_problems = parse_keymap(environ.get(KEYMAP_ENV, ""))
    sources = {binding_id: str(path or config_path()) for binding_id in from_file}
    sources.update({binding_id: KEYMAP_ENV for binding_id in from_env})
    wanted = {**from_file, **from_env}
    if not wanted:
        return Keymap({}, file_problems + env_problems)
    from tuichat.ui.keymap_check import check_keymap

    bindings, problems = check_keymap(wanted, sources)
    return Keymap(bindings, file_problems + env_problems + problems)


def parse_keymap(text: str) -> tuple[dict[str, str], list[str]]:
    """`id=keys,id=keys`, e.g. `chat.new=ctrl+t,chat.stream=f11`; an item without `=` is a problem."""
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for item in text.split(","):
        if not item.strip():
            continue
        binding_id, equals, keys = item.partition("=")
        if not equals or not binding_id.strip() or not keys.strip():
            problems.append(f"{KEYMAP_ENV}: '{item.strip()}' is not id=key (e.g. model.pick=f11)")
            continue
        keymap[binding_id.strip()] = keys.strip()
    return keymap, problems


def read_config(path: Path) -> tuple[dict[str, str], list[str]]:
    """The `[keymap]` table of the config file (none when the file does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as error:
        return {}, [f"{path}: cannot be read ({getattr(error, 'strerror', None) or error}); its keymap is not used"]
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return {}, [f"{path}: not valid TOML ({error}); its keymap is not used"]
    table = config.get("keymap", {})
    if not isinstance(table, dict):
        return {}, [f'{path}: keymap must be a table ([keymap], then "id" = "key" lines)']
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, keys in _flatten(table):
        if isinstance(keys, str) and keys.strip():
            keymap[binding_id] = keys.strip()
        elif isinstance(keys, list) and keys and all(isinstance(key, str) and key.strip() for key in keys):
            keymap[binding_id] = ",".join(key.strip() for key in keys)
        else:
            problems.append(f'{path}: {binding_id} = {keys!r} is not a key or a list of keys (e.g. "f11")')
    return keymap, problems


def _flatten(table: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """`model.pick = "f1"` unquoted is TOML for {"model": {"pick": "f1"}}: both spellings work."""
    pairs: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            pairs += _flatten(value, f"{name}.")
        else:
            pairs.append((name, value))
    return pairs
