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
