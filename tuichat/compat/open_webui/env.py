"""`open_webui.env`: the settings pipes read, with Open WebUI's defaults.

Each is read from the environment variable of the same name when the module is
first imported, as Open WebUI does. `DATA_DIR` is the exception: it is the data
folder of the host running the pipe (see `tuichat.compat.binding`), looked up at
each access.

Unlike Open WebUI, importing this module never reconfigures logging: the host
owns the root logger.
"""

from __future__ import annotations

import logging
import os
from typing import Final

from tuichat.compat._names import module_getattr
from tuichat.compat.binding import current

__all__ = [
    "AIOHTTP_CLIENT_SESSION_SSL",
    "AIOHTTP_CLIENT_SESSION_TOOL_SERVER_SSL",
    "AIOHTTP_CLIENT_TIMEOUT",
    "AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST",
    "AIOHTTP_CLIENT_TIMEOUT_TOOL_SERVER_DATA",
    "BYPASS_MODEL_ACCESS_CONTROL",
    "CHAT_STREAM_RESPONSE_CHUNK_MAX_BUFFER_SIZE",
    "DATA_DIR",  # noqa: F822  (computed by __getattr__)
    "DEVICE_TYPE",
    "DOCKER",
    "ENABLE_FORWARD_USER_INFO_HEADERS",
    "ENABLE_ORJSON",
    "ENABLE_REALTIME_CHAT_SAVE",
    "ENABLE_WEBSOCKET_SUPPORT",
    "ENV",
    "FORWARD_SESSION_INFO_HEADER_CHAT_ID",
    "FORWARD_SESSION_INFO_HEADER_MESSAGE_ID",
    "FORWARD_USER_INFO_HEADER_USER_EMAIL",
    "FORWARD_USER_INFO_HEADER_USER_ID",
    "FORWARD_USER_INFO_HEADER_USER_NAME",
    "FORWARD_USER_INFO_HEADER_USER_ROLE",
    "GLOBAL_LOG_LEVEL",
    "OFFLINE_MODE",
    "REDIS_URL",
    "REQUESTS_VERIFY",
    "SAFE_MODE",
    "SRC_LOG_LEVELS",
    "USE_CUDA",
    "VERSION",
    "WEBSOCKET_MANAGER",
    "WEBUI_AUTH",
    "WEBUI_FAVICON_URL",
    "WEBUI_NAME",
    "WEBUI_SECRET_KEY",
]


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).lower() == "true"


def _int_or_none(name: str, default: str, invalid: int | None) -> int | None:
    """An int setting where "" means none (no timeout, no limit) and junk means `invalid`."""
    text = os.environ.get(name, default)
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return invalid


def _log_level(name: str, fallback: str) -> str:
    level = os.environ.get(name, "").upper()
    return level if level in logging.getLevelNamesMapping() else fallback


# -- logging -------------------------------------------------------------------------

GLOBAL_LOG_LEVEL: Final = _log_level("GLOBAL_LOG_LEVEL", "INFO")


class _SourceLogLevels(dict[str, str]):
    """`SRC_LOG_LEVELS["MAIN"]` and the like: `<SOURCE>_LOG_LEVEL`, else the global level.

    Open WebUI 0.11 and later keep the name but leave the dict empty, so pipes
    written before, which do `log.setLevel(SRC_LOG_LEVELS["MAIN"])`, fail there with
    a KeyError. Here every source has a level, and old and new pipes alike load.
    """

    def __missing__(self, source: str) -> str:
        return _log_level(f"{source}_LOG_LEVEL", GLOBAL_LOG_LEVEL)


_OLD_LOG_SOURCES: Final = (
    "AUDIO", "COMFYUI", "CONFIG", "DB", "IMAGES", "MAIN", "MODELS", "OLLAMA", "OPENAI",
    "RAG", "WEBHOOK", "SOCKET", "OAUTH",
)  # fmt: skip
SRC_LOG_LEVELS: Final = _SourceLogLevels()
SRC_LOG_LEVELS.update({source: SRC_LOG_LEVELS[source] for source in _OLD_LOG_SOURCES})

# -- identity -------------------------------------------------------------------------

# The Open WebUI release tuichat reproduces (spec §1); pipes compare it to pick an API.
VERSION: Final = "0.12.4"
ENV: Final = os.environ.get("ENV", "dev")
_NAME: Final = os.environ.get("WEBUI_NAME", "Open WebUI")
# Open WebUI marks a renamed instance as still being Open WebUI.
WEBUI_NAME: Final = _NAME if _NAME == "Open WebUI" else f"{_NAME} (Open WebUI)"
WEBUI_FAVICON_URL: Final = "https://openwebui.com/favicon.png"
SAFE_MODE: Final = _flag("SAFE_MODE", "false")
DOCKER: Final = _flag("DOCKER", "False")
USE_CUDA: Final = os.environ.get("USE_CUDA_DOCKER", "false")
DEVICE_TYPE: Final = "cpu"

# -- auth -----------------------------------------------------------------------------

WEBUI_AUTH: Final = _flag("WEBUI_AUTH", "True")
WEBUI_SECRET_KEY: Final = os.environ.get(
    "WEBUI_SECRET_KEY", os.environ.get("WEBUI_JWT_SECRET_KEY", "t0p-s3cr3t")
)
BYPASS_MODEL_ACCESS_CONTROL: Final = _flag("BYPASS_MODEL_ACCESS_CONTROL", "False")

ENABLE_FORWARD_USER_INFO_HEADERS: Final = _flag("ENABLE_FORWARD_USER_INFO_HEADERS", "False")
FORWARD_USER_INFO_HEADER_USER_NAME: Final = os.environ.get(
    "FORWARD_USER_INFO_HEADER_USER_NAME", "X-OpenWebUI-User-Name"
)
FORWARD_USER_INFO_HEADER_USER_ID: Final = os.environ.get(
    "FORWARD_USER_INFO_HEADER_USER_ID", "X-OpenWebUI-User-Id"
)
FORWARD_USER_INFO_HEADER_USER_EMAIL: Final = os.environ.get(
    "FORWARD_USER_INFO_HEADER_USER_EMAIL", "X-OpenWebUI-User-Email"
)
FORWARD_USER_INFO_HEADER_USER_ROLE: Final = os.environ.get(
    "FORWARD_USER_INFO_HEADER_USER_ROLE", "X-OpenWebUI-User-Role"
)
FORWARD_SESSION_INFO_HEADER_MESSAGE_ID: Final = os.environ.get(
    "FORWARD_SESSION_INFO_HEADER_MESSAGE_ID", "X-OpenWebUI-Message-Id"
)
FORWARD_SESSION_INFO_HEADER_CHAT_ID: Final = os.environ.get(
    "FORWARD_SESSION_INFO_HEADER_CHAT_ID", "X-OpenWebUI-Chat-Id"
)

# -- HTTP -----------------------------------------------------------------------------

REQUESTS_VERIFY: Final = _flag("REQUESTS_VERIFY", "True")
AIOHTTP_CLIENT_SESSION_SSL: Final = _flag("AIOHTTP_CLIENT_SESSION_SSL", "True")
AIOHTTP_CLIENT_SESSION_TOOL_SERVER_SSL: Final = _flag(
    "AIOHTTP_CLIENT_SESSION_TOOL_SERVER_SSL", "True"
)
AIOHTTP_CLIENT_TIMEOUT: Final = _int_or_none("AIOHTTP_CLIENT_TIMEOUT", "", 300)
AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST: Final = _int_or_none(
    "AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST",
    os.environ.get("AIOHTTP_CLIENT_TIMEOUT_OPENAI_MODEL_LIST", "10"),  # the older name
    10,
)
AIOHTTP_CLIENT_TIMEOUT_TOOL_SERVER_DATA: Final = _int_or_none(
    "AIOHTTP_CLIENT_TIMEOUT_TOOL_SERVER_DATA", "10", 10
)

# -- chat, sockets, storage -----------------------------------------------------------

ENABLE_ORJSON: Final = _flag("ENABLE_ORJSON", "True")
CHAT_STREAM_RESPONSE_CHUNK_MAX_BUFFER_SIZE: Final = _int_or_none(
    "CHAT_STREAM_RESPONSE_CHUNK_MAX_BUFFER_SIZE", "", None
)
ENABLE_REALTIME_CHAT_SAVE: Final = _flag("ENABLE_REALTIME_CHAT_SAVE", "False")
ENABLE_WEBSOCKET_SUPPORT: Final = _flag("ENABLE_WEBSOCKET_SUPPORT", "True")
WEBSOCKET_MANAGER: Final = os.environ.get("WEBSOCKET_MANAGER", "")
REDIS_URL: Final = os.environ.get("REDIS_URL", "")

OFFLINE_MODE: Final = _flag("OFFLINE_MODE", "false")
if OFFLINE_MODE:
    # As Open WebUI does, so embedding libraries a pipe uses stay off the network too.
    os.environ["HF_HUB_OFFLINE"] = "1"


__getattr__ = module_getattr(__name__, {"DATA_DIR": lambda: current().data_dir})
