"""`__request__`: a real Starlette `Request`, as Open WebUI builds it for `POST /api/chat/completions`.

The scope is what uvicorn gives Open WebUI for the web UI's chat request (HTTP/1.1,
`localhost:8080`, JSON body, client on loopback), with the host's app as
`request.app` (the same object as `open_webui.main.app`), `request.state.metadata`
the call's metadata, as Open WebUI's `chat_completion` sets it, and the body
(`await request.json()`) the form the 0.12.4 web UI posts for the message, as far
as tuichat knows it: model, stream, params, features, variables, the chat, message
and session ids, the user message and the model's entry.
"""

from __future__ import annotations

import datetime
import json
import time
import uuid
from typing import Any

from tuichat import __version__

HOST, PORT = "localhost", 8080
PATH = "/api/chat/completions"
RELAY_KEY = "tuichat.relay"  # in the scope: the call a nested `generate_chat_completion` belongs to


def new_request(app: Any, metadata: dict[str, Any], form: dict[str, Any], relay: Any = None) -> Any:
    """A Starlette Request for the call; `form` is the JSON body it reads."""
    from starlette.requests import Request

    body = json.dumps(form, ensure_ascii=False, default=str).encode()
    headers = [
        (b"host", f"{HOST}:{PORT}".encode()),
        (b"user-agent", f"tuichat/{__version__}".encode()),
        (b"content-type", b"application/json"),
        (b"accept", b"*/*"),
        (b"accept-language", b"en-US"),
        (b"content-length", str(len(body)).encode()),
    ]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": (HOST, PORT),
        "client": ("127.0.0.1", 0),
        "scheme": "http",
        "method": "POST",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": headers,
        "path_params": {},
        "app": app,
        "router": getattr(app, "router", None),
        "state": {"metadata": metadata},
        RELAY_KEY: relay,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def relay_in(request: object) -> Any:
    """The relay `new_request` was given, if `request` is one of tuichat's."""
    scope = getattr(request, "scope", None)
    return scope.get(RELAY_KEY) if isinstance(scope, dict) else None


def posted_form(body: dict[str, Any], metadata: dict[str, Any], user: dict[str, Any], model_item: Any) -> dict[str, Any]:
    """What the 0.12.4 web UI posts to /api/chat/completions for this message."""
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    last_user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    form: dict[str, Any] = {
        "stream": bool(body.get("stream")),
        "model": body.get("model"),
        "params": {"model_controls": {}},
        "tool_ids": [],
        "tool_servers": [],
        "features": {"voice": False, "image_generation": False, "code_interpreter": False, "web_search": False},
        "variables": template_variables(user),
        "chat_variables": {},
        "session_id": metadata.get("session_id"),
    }
    if metadata.get("chat_id"):
        form["chat_id"] = metadata["chat_id"]
    form["id"] = metadata.get("message_id")
    form["parent_id"] = None
    if last_user is not None:
        form["user_message"] = {
            "id": metadata.get("user_message_id") or str(uuid.uuid4()),
            "parentId": None,
            "childrenIds": [],
            "role": "user",
            "content": last_user.get("content"),
            "timestamp": int(time.time()),
            "models": [body.get("model")],
        }
    form["background_tasks"] = {"title_generation": False, "tags_generation": False, "follow_up_generation": False}
    form["model_item"] = model_item if model_item is not None else {"id": body.get("model")}
    return form


def template_variables(user: dict[str, Any], now: datetime.datetime | None = None) -> dict[str, str]:
    """The nine `{{…}}` prompt variables the web page sends (the chat path posts them too)."""
    now = now or datetime.datetime.now().astimezone()
    return {
        "{{USER_NAME}}": str(user.get("name") or ""),
        "{{USER_EMAIL}}": str(user.get("email") or ""),
        "{{USER_LOCATION}}": "Unknown",
        "{{CURRENT_DATETIME}}": now.strftime("%Y-%m-%d %H:%M:%S"),
        "{{CURRENT_DATE}}": now.strftime("%Y-%m-%d"),
        "{{CURRENT_TIME}}": now.strftime("%H:%M:%S"),
        "{{CURRENT_WEEKDAY}}": now.strftime("%A"),
        "{{CURRENT_TIMEZONE}}": str(now.tzname() or "UTC"),
        "{{USER_LANGUAGE}}": "en-US",
    }