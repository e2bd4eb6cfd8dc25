"""`__request__` behaves like the Starlette Request for what pipes touch."""

from __future__ import annotations

import json

from tests.tracing import ORACLE_METADATA, collect
from tuichat.runtime.host import PipeHost, make_body
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps

READS_REQUEST = '''
import json

class Pipe:
    def pipe(self, body, __request__):
        r = __request__
        return json.dumps({
            "type": type(r).__name__,
            "models": sorted(r.app.state.MODELS),
            "functions": sorted(r.app.state.FUNCTIONS),
            "chat_id": r.state.metadata["chat_id"],
            "user_agent": r.headers["User-Agent"],
            "has_host": "host" in r.headers,
            "url": str(r.url),
            "path": r.url.path,
            "base_url": str(r.base_url),
            "base_host": r.base_url.hostname,
            "method": r.method,
            "client": r.client.host,
            "missing_state": hasattr(r.app.state, "NOT_THERE"),
        })
'''


async def test_request_shape(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(READS_REQUEST, function_id="req")
    await host.list_models()  # fills app.state.MODELS as Open WebUI's model listing does
    body = make_body("req", [{"role": "user", "content": "hi"}], stream=False)
    invocation = await host.invoke("req", body, metadata=dict(ORACLE_METADATA))
    seen = json.loads(reply_from_steps(await collect(invocation)).content)
    assert seen == {
        "type": "Request",
        "models": ["req"],
        "functions": ["req"],
        "chat_id": "oracle-chat-1",
        "user_agent": seen["user_agent"],
        "has_host": True,
        "url": "http://localhost:8080/api/chat/completions",
        "path": "/api/chat/completions",
        "base_url": "http://localhost:8080/",
        "base_host": "localhost",
        "method": "POST",
        "client": "127.0.0.1",
        "missing_state": False,
    }
    assert seen["user_agent"].startswith("tuichat/")


STARLETTE_REQUEST = '''
import json
from starlette.requests import Request

class Pipe:
    async def pipe(self, body, __request__):
        r = __request__
        posted = await r.json()
        return json.dumps({
            "is_starlette": isinstance(r, Request),
            "json_keys": sorted(posted),
            "posted": [posted["model"], posted["stream"], posted["chat_id"], posted["id"], posted["session_id"]],
            "user_message": posted["user_message"]["content"],
            "model_item": posted["model_item"]["id"],
            "body_is_json": json.loads(await r.body()) == posted,
            "query": dict(r.query_params),
            "cookies": r.cookies,
            "client": [r.client.host, type(r.client.port).__name__],
            "accept_language": r.headers.get("accept-language"),
            "content_type": r.headers["Content-Type"],
            "metadata": r.state.metadata["message_id"],
            "app_state_models": sorted(r.app.state.MODELS),
            "url_for": str(r.app.url_path_for("get_file_content_by_id", id="f1")),
        })
'''


async def test_request_is_starlettes_built_as_open_webui_builds_it(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(STARLETTE_REQUEST, function_id="req")
    await host.list_models()
    body = make_body("req", [{"role": "user", "content": "hello"}], stream=True)
    invocation = await host.invoke("req", body, metadata=dict(ORACLE_METADATA))
    seen = json.loads(reply_from_steps(await collect(invocation)).content)
    assert seen == {
        "is_starlette": True,
        "json_keys": sorted([
            "background_tasks", "chat_id", "chat_variables", "features", "id", "model", "model_item", "params",
            "parent_id", "session_id", "stream", "tool_ids", "tool_servers", "user_message", "variables",
        ]),
        "posted": ["req", True, "oracle-chat-1", "oracle-assistant-msg-1", "oracle-session-1"],
        "user_message": "hello",
        "model_item": "req",
        "body_is_json": True,
        "query": {},
        "cookies": {},
        "client": ["127.0.0.1", "int"],
        "accept_language": "en-US",
        "content_type": "application/json",
        "metadata": "oracle-assistant-msg-1",
        "app_state_models": ["req"],
        "url_for": "/api/v1/files/f1/content",
    }
