"""`open_webui.main`: the app, and its chat completion handlers routed to tuichat's models.

`app` is the application of the host running the pipe (`__request__.app` is the
same object): its `state` holds `MODELS` (model id -> model, as last listed),
`BASE_MODELS`, `FUNCTIONS`, `config` (see `open_webui.config`), and
`url_path_for` gives Open WebUI's paths (see `tuichat.compat._app`).

In Open WebUI the handlers run the whole chat pipeline; tuichat has no filters or
background tasks on this path, so they are the same call as
`open_webui.utils.chat.generate_chat_completion`.
"""

from __future__ import annotations

from typing import Any

from tuichat.compat._names import module_getattr
from tuichat.compat.binding import NotInHost, current
from tuichat.compat.open_webui.utils.chat import generate_chat_completion
from tuichat.compat.open_webui.utils.middleware import chat_completion_tools_handler  # here before 0.5

generate_chat_completions = generate_chat_completion
chat_completion = generate_chat_completion

__all__ = [  # noqa: F822
    "app", "chat_completion", "chat_completion_tools_handler", "generate_chat_completion", "generate_chat_completions",
]


def _app() -> Any:
    host = current()
    if host.app is None:
        raise NotInHost("open_webui.main.app: the tuichat host running this pipe has no app")
    return host.app()


__getattr__ = module_getattr(__name__, {"app": _app})
