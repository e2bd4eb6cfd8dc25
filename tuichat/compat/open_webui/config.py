"""`open_webui.config`: the data folders, a few settings, and the older `PersistentConfig`.

`DATA_DIR`, `UPLOAD_DIR` and `CACHE_DIR` are the data folder of the host running the
pipe (see `tuichat.compat.binding`), looked up at each access. Open WebUI creates the
upload and cache folders when this module is imported, and pipes write into them
without checking, so they are created when first asked for.

Open WebUI 0.12 keeps its settings in per-key database rows; up to 0.11 they were
`PersistentConfig` objects, all listed in `PERSISTENT_CONFIG_REGISTRY` and reachable
as `app.state.config.NAME` (an `AppConfig`), with `get_config()` / `save_config()` for
the whole stored dict. Pipes written then still import those names, so tuichat keeps
them, working as they did: tuichat has no admin settings, so the stored config is
Open WebUI's empty default, kept in memory for the life of the process, and each
setting's value is its environment variable's or its default.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current

# The folders are computed by the module's __getattr__.
__all__ = [
    "CACHE_DIR",  # noqa: F822
    "DATA_DIR",  # noqa: F822
    "DEFAULT_CONFIG",
    "PERSISTENT_CONFIG_REGISTRY",
    "TERMINAL_SERVER_CONNECTIONS",
    "TOOL_SERVER_CONNECTIONS",
    "UPLOAD_DIR",  # noqa: F822
    "AppConfig",
    "BannerModel",
    "PersistentConfig",
    "get_config",
    "get_config_value",
    "save_config",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


def _json_env(name: str, default: Any) -> Any:
    try:
        return json.loads(os.environ.get(name, json.dumps(default)))
    except ValueError:
        log.error("%s is not valid JSON; using %r", name, default)
        return default


TOOL_SERVER_CONNECTIONS: list[Any] = _json_env("TOOL_SERVER_CONNECTIONS", [])
TERMINAL_SERVER_CONNECTIONS: list[Any] = _json_env("TERMINAL_SERVER_CONNECTIONS", [])

# -- the whole stored config (Open WebUI up to 0.11) -----------------------------------

DEFAULT_CONFIG: dict[str, Any] = {"version": 0, "ui": {}}
_config_data: dict[str, Any] = json.loads(json.dumps(DEFAULT_CONFIG))

PERSISTENT_CONFIG_REGISTRY: list[PersistentConfig[Any]] = []


def get_config() -> dict[str, Any]:
    """The stored config: Open WebUI's default until a pipe saves one (in memory only)."""
    return _config_data


def get_config_value(config_path: str) -> Any:
    """The value at a dotted path of the stored config, or None."""
    value: Any = _config_data
    for key in config_path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def save_config(config: dict[str, Any]) -> bool:
    """Replace the stored config and refresh every PersistentConfig from it."""
    global _config_data
    _config_data = config
    for item in PERSISTENT_CONFIG_REGISTRY:
        item.update()
    return True


class PersistentConfig(Generic[T]):
    """A setting: the stored config's value at `config_path`, else `env_value`.

    Every one made is added to PERSISTENT_CONFIG_REGISTRY, as in Open WebUI.
    """

    def __init__(self, env_name: str, config_path: str, env_value: T) -> None:
        self.env_name = env_name
        self.config_path = config_path
        self.env_value = env_value
        self.config_value = get_config_value(config_path)
        self.value: T = self.config_value if self.config_value is not None else env_value
        PERSISTENT_CONFIG_REGISTRY.append(self)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        return f"PersistentConfig({self.env_name}={self.value!r})"

    def update(self) -> None:
        """Re-read the value from the stored config."""
        new_value = get_config_value(self.config_path)
        if new_value is not None:
            self.value = new_value

    def save(self) -> None:
        """Write the value into the stored config (in memory)."""
        node = _config_data
        *parents, last = self.config_path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = self.value
        self.config_value = self.value


class AppConfig:
    """`app.state.config`: settings by name, read as values, assigned to save them.

    An unknown name raises AttributeError, as Open WebUI's does, so
    `getattr(config, "NAME", default)` works.
    """

    _state: dict[str, PersistentConfig[Any]]

    def __init__(self, **settings: PersistentConfig[Any]) -> None:
        object.__setattr__(self, "_state", dict(settings))

    def __setattr__(self, key: str, value: Any) -> None:
        if isinstance(value, PersistentConfig):
            self._state[key] = value
        elif key in self._state:
            self._state[key].value = value
            self._state[key].save()
        else:
            self._state[key] = PersistentConfig(key, key.lower(), value)

    def __getattr__(self, key: str) -> Any:
        state = object.__getattribute__(self, "_state")
        if key not in state:
            raise AttributeError(f"Config key '{key}' not found")
        return state[key].value

    def __dir__(self) -> list[str]:
        return sorted(self._state)


@functools.cache
def app_config() -> AppConfig:
    """`app.state.config`, one for the process as in Open WebUI: the settings pipes read,
    from the environment as Open WebUI reads them (tuichat talks to no model server of its
    own, so the lists are empty unless set). Each is in PERSISTENT_CONFIG_REGISTRY."""

    def listed(name: str) -> list[str]:
        text = os.environ.get(name, "")
        return [part.strip() for part in text.split(";")] if text else []

    settings: dict[str, Any] = {
        "TOOL_SERVER_CONNECTIONS": ("tool_server.connections", TOOL_SERVER_CONNECTIONS),
        "TERMINAL_SERVER_CONNECTIONS": ("terminal_server.connections", TERMINAL_SERVER_CONNECTIONS),
        "ENABLE_OPENAI_API": ("openai.enable", os.environ.get("ENABLE_OPENAI_API", "True").lower() == "true"),
        "OPENAI_API_BASE_URLS": ("openai.api_base_urls", listed("OPENAI_API_BASE_URLS")),
        "OPENAI_API_KEYS": ("openai.api_keys", listed("OPENAI_API_KEYS")),
        "OPENAI_API_CONFIGS": ("openai.api_configs", {}),
        "ENABLE_OLLAMA_API": ("ollama.enable", os.environ.get("ENABLE_OLLAMA_API", "True").lower() == "true"),
        "OLLAMA_BASE_URLS": ("ollama.base_urls", listed("OLLAMA_BASE_URLS")),
        "OLLAMA_API_CONFIGS": ("ollama.api_configs", {}),
        "TASK_MODEL": ("task.model.default", os.environ.get("TASK_MODEL", "")),
        "TASK_MODEL_EXTERNAL": ("task.model.external", os.environ.get("TASK_MODEL_EXTERNAL", "")),
        "WEBUI_URL": ("webui.url", os.environ.get("WEBUI_URL", "")),
        "ENABLE_WEB_SEARCH": ("rag.web.search.enable", False),
        "ENABLE_IMAGE_GENERATION": ("image_generation.enable", False),
        "ENABLE_CODE_INTERPRETER": ("code_interpreter.enable", False),
    }
    return AppConfig(**{name: PersistentConfig(name, path, value) for name, (path, value) in settings.items()})


class BannerModel(BaseModel):
    i18n: dict[str, dict[str, str]] | None = None
    id: str
    type: str
    title: str | None = None
    content: str
    dismissible: bool
    timestamp: int


def upload_dir() -> Path:
    return _made(current().data_dir / "uploads")


def cache_dir() -> Path:
    return _made(current().data_dir / "cache")


def _made(folder: Path) -> Path:
    os.makedirs(folder, exist_ok=True)
    return folder


__getattr__ = module_getattr(
    __name__,
    {"DATA_DIR": lambda: current().data_dir, "UPLOAD_DIR": upload_dir, "CACHE_DIR": cache_dir},
)
