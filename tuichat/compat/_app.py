"""The application object pipes see as `open_webui.main.app` and `__request__.app`.

Open WebUI's is a FastAPI app; pipes use its `state` (`MODELS`, `BASE_MODELS`,
`FUNCTIONS`, `config`, ... and starlette's `state._state`) and `url_path_for`,
chiefly `url_path_for("get_file_content_by_id", id=...)` for a file they stored.
This is a Starlette app (FastAPI's base, lighter to import) with the routes those
names resolve to, at Open WebUI's paths; tuichat serves no HTTP, so each answers
404 if anything ever calls it. One per host: its state is that host's.
"""

from __future__ import annotations

from typing import Any

from tuichat.compat.open_webui.config import app_config
from tuichat.compat.open_webui.env import WEBUI_NAME

# (mount prefix, path, route name): Open WebUI 0.12.4's, for the routes pipes link to.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("/api", "/chat/completions", "chat_completion"),
    ("/api", "/chat/completed", "chat_completed"),
    ("/api", "/models", "get_models"),
    ("/api/v1/files", "/", "upload_file"),
    ("/api/v1/files", "/{id}", "get_file_by_id"),
    ("/api/v1/files", "/{id}/data/content", "get_file_data_content_by_id"),
    ("/api/v1/files", "/{id}/content", "get_file_content_by_id"),
    ("/api/v1/files", "/{id}/content/html", "get_html_file_content_by_id"),
    ("/api/v1/files", "/{id}/content/{file_name}", "get_file_content_by_id"),
    ("/api/v1/chats", "/{id}", "get_chat_by_id"),
    ("/api/v1/images", "/generations", "image_generations"),
)


def new_app() -> Any:
    """A fresh app with Open WebUI's initial state (models filled in by the host as it lists them)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    async def not_served(request: Any) -> Any:
        return JSONResponse({"detail": "tuichat runs pipes without a web server"}, status_code=404)

    mounts: dict[str, list[Route]] = {}
    for prefix, path, name in ROUTES:
        mounts.setdefault(prefix, []).append(Route(path, not_served, name=name, methods=["GET", "POST"]))
    app = Starlette(routes=[Mount(prefix, routes=routes) for prefix, routes in mounts.items()])
    state = app.state
    state.config = app_config()
    state.MODELS = {}
    state.BASE_MODELS = []
    state.OPENAI_MODELS = {}
    state.OLLAMA_MODELS = {}
    state.FUNCTIONS = {}
    state.FUNCTION_CONTENTS = {}
    state.TOOLS = {}
    state.TOOL_CONTENTS = {}
    state.TOOL_SERVERS = []
    state.TERMINAL_SERVERS = []
    state.WEBUI_NAME = WEBUI_NAME
    state.USER_COUNT = None
    state.LICENSE_METADATA = None
    state.redis = None
    return app
