"""A small OpenAI-compatible server on loopback, for pipes that talk to "OpenAI".

Stdlib only (`http.server.ThreadingHTTPServer` in a daemon thread), bound to
127.0.0.1 on a free port, and shut down by the fixture's teardown:

* `GET  /v1/models`: three models, one of them an embedding model;
* `POST /v1/chat/completions`: a completion whose text names the model and echoes
  the last user message; with `"stream": true` the same text as Server-Sent Events,
  one `data: {chunk}` per word, a final chunk with `finish_reason: "stop"` and
  `usage`, then `data: [DONE]`;
* every request must carry `Authorization: Bearer <key>`; otherwise 401 with
  OpenAI's JSON error body.

Every request is recorded (method, path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import pytest

API_KEY = "sk-test-7f3a9c"
MODELS = ("gpt-4o-mini", "gpt-4.1", "text-embedding-3-small")
CREATED = 1_715_367_049
CHUNK_DELAY = 0.002  # seconds between streamed chunks, so lines really arrive one by one
MAX_BODY = 1 << 20


def last_user_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
            return str(content or "")
    return ""


def reply_text(model: str, messages: Any) -> str:
    """What the server answers: the model's name, then the last user message."""
    return f"[{model}] You said: {last_user_text(messages)}"


def stream_pieces(text: str) -> list[str]:
    """The text cut into words with their trailing space: joined, they give `text` back."""
    return re.findall(r"\S+\s*|\s+", text)


def usage_for(messages: Any, text: str) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
    completion = len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any = None

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


@dataclass
class Recorder:
    """Every request the server got, in order; safe to read from the test thread."""

    requests: list[RecordedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self.requests)

    def chat(self) -> list[RecordedRequest]:
        return [r for r in self.all() if r.path.endswith("/chat/completions")]

    def model_lists(self) -> list[RecordedRequest]:
        return [r for r in self.all() if r.path.endswith("/models")]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


class OpenAIServer(NamedTuple):
    url: str  # http://127.0.0.1:<port>/v1
    recorder: Recorder
    key: str = API_KEY


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        **extra,
    }


def sse_events(model: str, messages: Any) -> Iterator[str]:
    """The streamed answer as OpenAI sends it: role first, words, stop + usage, [DONE]."""
    text = reply_text(model, messages)
    yield json.dumps(_chunk(model, {"role": "assistant", "content": ""}))
    for piece in stream_pieces(text):
        yield json.dumps(_chunk(model, {"content": piece}))
    yield json.dumps(_chunk(model, {}, "stop", usage=usage_for(messages, text)))
    yield "[DONE]"


def completion(model: str, messages: Any) -> dict[str, Any]:
    text = reply_text(model, messages)
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None, "finish_reason": "stop"}
        ],
        "usage": usage_for(messages, text),
    }


def make_handler(recorder: Recorder, key: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; a stream ends when we close
        timeout = 10  # a stuck client cannot hold a server thread for long

        def log_message(self, format: str, *args: Any) -> None:
            pass

        # -- plumbing ---------------------------------------------------------------
        def _record(self, body: Any = None) -> RecordedRequest:
            request = RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            recorder.add(request)
            return request

        def _send_json(self, status: int, data: Any) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _authorised(self, request: RecordedRequest) -> bool:
            if request.authorization == f"Bearer {key}":
                return True
            self._send_json(
                401,
                {
                    "error": {
                        "message": "Incorrect API key provided.",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": "invalid_api_key",
                    }
                },
            )
            return False

        def _not_found(self) -> None:
            self._send_json(404, {"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error"}})

        # -- routes -----------------------------------------------------------------
        def do_GET(self) -> None:
            request = self._record()
            if self.path.rstrip("/") != "/v1/models":
                return self._not_found()
            if not self._authorised(request):
                return
            data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "test"} for m in MODELS]
            self._send_json(200, {"object": "list", "data": data})

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            request = self._record(body)
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._not_found()
            if not self._authorised(request):
                return
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
                return self._send_json(400, {"error": {"message": "'messages' is required", "type": "invalid_request_error"}})
            model = str(body.get("model") or "")
            if model not in MODELS or model.startswith("text-embedding"):
                return self._send_json(
                    404, {"error": {"message": f"The model `{model}` does not exist", "code": "model_not_found"}}
                )
            if body.get("stream"):
                self._stream(model, body["messages"])
            else:
                self._send_json(200, completion(model, body["messages"]))

        def _stream(self, model: str, messages: Any) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for event in sse_events(model, messages):
                self.wfile.write(f"data: {event}\n\n".encode())
                self.wfile.flush()
                time.sleep(CHUNK_DELAY)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


def start_server(key: str = API_KEY) -> tuple[_Server, threading.Thread, OpenAIServer]:
    recorder = Recorder()
    server = _Server(("127.0.0.1", 0), make_handler(recorder, key))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    return server, thread, OpenAIServer(f"http://{host}:{port}/v1", recorder, key)


@pytest.fixture(name="openai_server")
def openai_server_fixture() -> Iterator[OpenAIServer]:
    """Yields (url, recorder, key); the server stops at teardown."""
    server, thread, info = start_server()
    try:
        yield info
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
