"""A scripted local model server: OpenAI-compatible, on loopback, one behaviour per model.

Stdlib only (`http.server` in a daemon thread), HTTP/1.1 with chunked Server-Sent Events as
llama.cpp's server and Ollama send them, so a connection cut mid-reply is a real incomplete
chunked body. The model asked for picks the script:

* `plain`: "Hello from plain." in pieces, a stop chunk, then a usage chunk with no choices
  (what `stream_options.include_usage` asks for), then `[DONE]`;
* `reasoner`: `reasoning_content` deltas (vLLM, llama.cpp), then the answer;
* `thinker`: a `<think>` block inside the content, its tags cut across chunks (Ollama's older
  models, llama.cpp without a reasoning parser);
* `vision`: answers with how many image parts the last user message had;
* `broken`: 500 with an OpenAI-shaped JSON error body;
* `vanished`: listed, but the chat answers 404 as Ollama does for a model it no longer has;
* `dropper`: two chunks, then the connection is closed mid-body;
* `overflow`: a chunk, then a `data: {"error": ...}` chunk (llama.cpp's mid-stream error);
* `slow`: waits `SLOW_FIRST_TOKEN` seconds before the first chunk;
* `toolcaller` (not listed: an agent pipe names it): given `tools` and no tool results since the
  last user message, it calls every tool offered (`TOOL_ARGUMENTS`, else `{}`; a user message
  with "wrong args" leaves the last argument out), streaming `tool_calls` deltas as OpenAI does:
  the id and name first, the arguments in pieces, `finish_reason: "tool_calls"`; given the
  results, it answers with them; without tools it says it has none.

Every request is recorded for assertions. Non-streaming requests get one completion object.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = ("plain", "reasoner", "thinker", "vision", "broken", "vanished", "dropper", "overflow", "slow")
SLOW_FIRST_TOKEN = 1.0
USAGE = {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
SCRIPTS: dict[str, list[dict[str, Any]]] = {
    "plain": [{"content": "Hello "}, {"content": "from "}, {"content": "plain."}],
    "reasoner": [
        {"reasoning_content": "The user said hi. "},
        {"reasoning_content": "Answer briefly."},
        {"content": "Hi!"},
    ],
    "thinker": [{"content": "<thi"}, {"content": "nk>Counting letters.</th"}, {"content": "ink>\n\nThree letters."}],
    "dropper": [{"content": "Half a "}, {"content": "sentence"}],
    "overflow": [{"content": "Start"}],
    "slow": [{"content": "Worth "}, {"content": "the wait."}],
}


TOOL_ARGUMENTS: dict[str, dict[str, Any]] = {"get_weather": {"city": "Paris"}, "add": {"a": 2, "b": 3}}


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None


@dataclass
class Recorder:
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Recorded) -> None:
        with self.lock:
            self.requests.append(request)

    def chats(self) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]


def chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [choice]}


def image_parts(messages: list[Any]) -> int:
    last = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), {})
    content = last.get("content")
    return sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url") if isinstance(content, list) else 0


def tool_deltas(body: dict[str, Any]) -> list[dict[str, Any]]:
    """`toolcaller`'s turn: calls to every offered tool, or an answer from their results."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    since_user = messages[max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=0):]
    results = [m for m in since_user if m.get("role") == "tool"]
    if results:
        names = {c["id"]: c["function"]["name"] for m in since_user for c in m.get("tool_calls") or []}
        said = "; ".join(f"{names.get(m.get('tool_call_id'), '?')} said {m.get('content')}" for m in results)
        return [{"role": "assistant", "content": ""}, {"content": "Done: "}, {"content": said}]
    tools = [t["function"]["name"] for t in body.get("tools") or [] if isinstance(t, dict) and "function" in t]
    if not tools:
        return [{"role": "assistant", "content": ""}, {"content": "I have no tools."}]
    wrong = "wrong args" in last_user_text(messages)
    out: list[dict[str, Any]] = [{"role": "assistant", "content": None}]
    for index, name in enumerate(tools):
        arguments = dict(TOOL_ARGUMENTS.get(name, {}))
        if wrong and arguments:
            arguments.pop(list(arguments)[-1])
        text = json.dumps(arguments)
        head = {"index": index, "id": f"call_{index}_{name}", "type": "function", "function": {"name": name, "arguments": ""}}
        out.append({"tool_calls": [head]})
        for start in range(0, len(text), 5):  # the arguments arrive in pieces, as OpenAI streams them
            out.append({"tool_calls": [{"index": index, "function": {"arguments": text[start : start + 5]}}]})
    return out


def last_user_text(messages: list[dict[str, Any]]) -> str:
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    return str(last.get("content") or "")


def deltas(model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if model == "toolcaller":
        return tool_deltas(body)
    if model == "vision":
        return [{"content": f"I see {image_parts(body.get('messages') or [])} image(s)."}]
    return [{"role": "assistant", "content": ""}, *SCRIPTS[model]]


def make_handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, data: Any) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _chunk(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def _event(self, data: Any) -> None:
            self._chunk(f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n")

        def do_GET(self) -> None:
            recorder.add(Recorded("GET", self.path, dict(self.headers)))
            if self.path.rstrip("/") != "/v1/models":
                return self._json(404, {"detail": "Not Found"})
            self._json(200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "script"} for m in MODELS]})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            recorder.add(Recorded("POST", self.path, dict(self.headers), body))
            model = str(body.get("model"))
            if model == "broken":
                return self._json(500, {"error": {"message": "CUDA error: out of memory", "type": "server_error"}})
            if model not in SCRIPTS and model not in ("vision", "toolcaller"):
                return self._json(404, {"error": {"message": f"model '{model}' not found", "type": "not_found_error"}})
            if not body.get("stream"):
                text = "".join(d.get("content") or "" for d in deltas(model, body))
                message = {"role": "assistant", "content": text}
                choice = {"index": 0, "message": message, "finish_reason": "stop"}
                return self._json(200, {"id": "chatcmpl-s", "object": "chat.completion", "model": model,
                                        "choices": [choice], "usage": USAGE})
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._stream(model, body)

        def _stream(self, model: str, body: dict[str, Any]) -> None:
            if model == "slow":
                time.sleep(SLOW_FIRST_TOKEN)
            for delta in deltas(model, body):
                self._event(chunk(model, delta))
                time.sleep(0.002)
            if model == "dropper":
                self.close_connection = True
                self.connection.shutdown(2)  # mid-body: no terminating chunk, no [DONE]
                return
            if model == "overflow":
                self._event({"error": {"code": 500, "message": "the context is full", "type": "server_error"}})
            else:
                calls = any("tool_calls" in d for d in deltas(model, body))
                self._event(chunk(model, {}, "tool_calls" if calls else "stop"))
                if (body.get("stream_options") or {}).get("include_usage"):
                    self._event({**chunk(model, {}), "choices": [], "usage": USAGE})
            self._event("[DONE]")
            self.wfile.write(b"0\r\n\r\n")

    return Handler


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int = 0) -> None:
        self.recorder = Recorder()
        super().__init__(("127.0.0.1", port), make_handler(self.recorder))
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
