"""
title: Local Models
author: tuichat
version: 0.1.0
description: Chat with the models of a local OpenAI-compatible server (Ollama, llama.cpp, LM Studio, vLLM), found on their default ports or at the BASE_URL valve. Streams text, reasoning and usage; passes images to vision models.
"""

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field

# Where each server listens by default. They are all probed at once, so a listing costs one
# probe's time, and a port nothing listens on is refused at once.
DEFAULT_SERVERS = (
    ("Ollama", 11434),
    ("llama.cpp", 8080),
    ("LM Studio", 1234),
    ("vLLM or llama-cpp-python", 8000),
)
PROBE_TIMEOUT = httpx.Timeout(1.5, connect=0.3)
# The model offered when no server answers: picking it and sending a message says why.
SETUP_ID = "setup"
# The OpenAI chat parameters passed on; anything else in the body is the host app's business.
PASSED_PARAMS = (
    "temperature", "top_p", "top_k", "min_p", "max_tokens", "max_completion_tokens", "stop", "seed",
    "presence_penalty", "frequency_penalty", "repeat_penalty", "response_format", "tools", "tool_choice",
    "reasoning_effort", "logit_bias", "logprobs", "top_logprobs",
)
HOW_TO_START = """Start one, for example:
- Ollama: `ollama serve`, then `ollama pull gemma3:270m`
- llama.cpp: `llama-server -m MODEL.gguf` (port 8080)
- llama-cpp-python: `python -m llama_cpp.server --model MODEL.gguf` (port 8000)
- LM Studio: start its local server
or set this pipe's BASE_URL valve to your server's address (e.g. http://127.0.0.1:9000/v1)."""

Emitter = Callable[[dict], Awaitable[Any]] | None


class LocalModelError(Exception):
    """What went wrong, worded for the person at the chat (Open WebUI shows str(e))."""


@dataclass
class Server:
    label: str  # "Ollama", or the BASE_URL
    base_url: str  # ends in /v1
    models: list[str] = field(default_factory=list)


@dataclass
class Probe:
    label: str
    base_url: str
    server: Server | None = None
    failure: str = ""


class Pipe:
    class Valves(BaseModel):
        BASE_URL: str = Field(
            default="",
            description="An OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1. "
            "Empty: look for Ollama, llama.cpp, LM Studio and vLLM on their default ports.",
        )
        API_KEY: str = Field(default="", description="Sent as a Bearer token; most local servers need none.")
        TIMEOUT: float = Field(
            default=600.0,
            description="Seconds to wait for the next token (a model's first one can take minutes while it loads).",
        )

    def __init__(self):
        self.valves = self.Valves()
        self.name = "Local/"
        self._routes: dict[str, tuple[Server, str]] = {}  # sub id -> (server, the server's model id)
        self._probes: list[Probe] = []
        self._listed_for: tuple[str, str] | None = None  # the valves the routes were found with

    # -- the model list -----------------------------------------------------------------
    async def pipes(self) -> list[dict]:
        probes = await self._probe_all()
        servers = [p.server for p in probes if p.server is not None]
        routes: dict[str, tuple[Server, str]] = {}
        names: dict[str, str] = {}
        for server in servers:
            for model in server.models:
                # Two servers may serve the same model id: the later one's gets its port.
                sub_id = model if model not in routes else f"{model}@{urlsplit(server.base_url).port}"
                routes[sub_id] = (server, model)
                name = os.path.basename(model.rstrip("/")) or model  # llama.cpp names models by path
                names[sub_id] = name if len(servers) == 1 else f"{name} ({server.label})"
        self._routes, self._probes = routes, probes
        self._listed_for = (self.valves.BASE_URL, self.valves.API_KEY)
        if not routes:
            where = "no models at BASE_URL" if self.valves.BASE_URL.strip() else "no local server found"
            return [{"id": SETUP_ID, "name": f"({where}: send a message for help)"}]
        return [{"id": sub_id, "name": names[sub_id]} for sub_id in routes]

    async def _probe_all(self) -> list[Probe]:
        base = self.valves.BASE_URL.strip()
        if base:
            probes = [Probe("BASE_URL", api_base(base))]
        else:
            probes = [Probe(label, f"http://127.0.0.1:{port}/v1") for label, port in DEFAULT_SERVERS]
        async with self._client(PROBE_TIMEOUT, tls=any(p.base_url.startswith("https:") for p in probes)) as client:
            await asyncio.gather(*(self._probe(client, probe) for probe in probes))
        return probes

    async def _probe(self, client: httpx.AsyncClient, probe: Probe) -> None:
        try:
            response = await client.get(f"{probe.base_url}/models")
        except httpx.TimeoutException:
            probe.failure = "no answer in time"
            return
        except httpx.HTTPError as exc:
            probe.failure = "connection refused" if isinstance(exc, httpx.ConnectError) else type(exc).__name__
            return
        if response.status_code != 200:
            probe.failure = f"answered {response.status_code}: {error_detail(response)}"
            return
        try:
            data = response.json()["data"]
            models = [str(item["id"]) for item in data]
        except (ValueError, KeyError, TypeError):
            probe.failure = "answered, but not with an OpenAI model list"
            return
        probe.server = Server(probe.label, probe.base_url, models)

    # -- a reply ------------------------------------------------------------------------
    async def pipe(self, body: dict, __event_emitter__: Emitter = None) -> AsyncIterator[str] | dict:
        model = body.get("model", "")
        sub_id = model[model.find(".") + 1 :]
        if sub_id not in self._routes or self._listed_for != (self.valves.BASE_URL, self.valves.API_KEY):
            await self.pipes()  # a server started, a model was pulled or the valves changed since the list was made
        if sub_id not in self._routes:
            raise LocalModelError(self._not_found(sub_id))
        server, server_model = self._routes[sub_id]
        payload = {key: body[key] for key in PASSED_PARAMS if key in body}
        # Messages go as they are: list-shaped content with image_url parts reaches vision models.
        payload.update(model=server_model, messages=body.get("messages", []), stream=bool(body.get("stream")))
        if not payload.get("tools"):
            payload.pop("tools", None)  # Open WebUI's chat sends `tools: []`, which some servers refuse
        if not payload["stream"]:
            return await self._complete(server, payload)
        payload["stream_options"] = {"include_usage": True}  # the last chunk carries the usage
        return self._stream(server, payload, __event_emitter__)

    async def _complete(self, server: Server, payload: dict) -> dict:
        async with self._client(self._timeout(), tls=server.base_url.startswith("https:")) as client:
            try:
                response = await client.post(f"{server.base_url}/chat/completions", json=payload)
            except httpx.TimeoutException:
                raise LocalModelError(self._too_slow(server, payload["model"])) from None
            except httpx.HTTPError as exc:
                raise LocalModelError(f"Could not reach {server.base_url} ({describe(exc)}). Is the server still running?") from None
        if response.status_code != 200:
            raise LocalModelError(server_error(server, payload["model"], response))
        return response.json()

    async def _stream(self, server: Server, payload: dict, emit: Emitter) -> AsyncIterator[str]:
        model = payload["model"]
        await status(emit, f"Waiting for {model}", done=False)
        answering = False
        try:
            async for data in self._server_chunks(server, payload):
                if not answering:
                    answering = True
                    await status(emit, f"{model} is answering", done=True)
                # The chunk goes on as the server sent it: the host app reads its content,
                # reasoning_content (or reasoning) and usage, as it does for any OpenAI model.
                yield f"data: {data}"
        except LocalModelError as exc:
            if not answering or emit is None:  # the error says why; the waiting line must not stay
                await status(emit, f"{model} did not answer", done=True)
                raise
            # Open WebUI's chat drops a reply's text when its pipe raises mid-stream: the text
            # stays, and a status under it says why it ends there.
            await emit({"type": "status", "data": {"description": f"Cut off: {exc}", "done": True}})

    async def _server_chunks(self, server: Server, payload: dict) -> AsyncIterator[str]:
        """The JSON of each chunk the server streams; every failure as a LocalModelError."""
        model, finished = payload["model"], False
        async with self._client(self._timeout(), tls=server.base_url.startswith("https:")) as client:
            try:
                async with client.stream("POST", f"{server.base_url}/chat/completions", json=payload) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise LocalModelError(server_error(server, model, response))
                    async for line in response.aiter_lines():
                        if not line.startswith("data:"):
                            continue  # blank separators, `: keep-alive` comments, `event:` lines
                        data = line[len("data:") :].strip()
                        if data == "[DONE]":
                            finished = True
                            break
                        chunk = parse_chunk(data, server)
                        if chunk.get("error") and not chunk.get("choices"):
                            raise LocalModelError(f"{server.base_url} stopped the reply: {error_text(chunk['error'])}.")
                        finished = finished or any(c.get("finish_reason") for c in chunk.get("choices") or [])
                        yield data
            except httpx.TimeoutException:
                raise LocalModelError(self._too_slow(server, model)) from None
            except httpx.ConnectError as exc:
                raise LocalModelError(f"Could not connect to {server.base_url} ({describe(exc)}). Is the server still running?") from None
            except httpx.HTTPError as exc:
                raise LocalModelError(
                    f"The connection to {server.base_url} broke during the reply ({describe(exc)}). "
                    "Is the server still running?"
                ) from None
        if not finished:
            raise LocalModelError(
                f"{server.base_url} ended the reply without finishing it (no finish_reason, no [DONE])."
            )

    # -- helpers ------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        key = self.valves.API_KEY.strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _client(self, timeout: httpx.Timeout, *, tls: bool) -> httpx.AsyncClient:
        # Loading the CA certificates costs ~0.1 s (more on a busy machine) on every listing and
        # message; a plain-HTTP local server needs none of it. An https BASE_URL is verified.
        return httpx.AsyncClient(timeout=timeout, headers=self._headers(), verify=tls)

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.valves.TIMEOUT, connect=5.0)

    def _too_slow(self, server: Server, model: str) -> str:
        return (
            f"{model} at {server.base_url} sent nothing for {self.valves.TIMEOUT:g} s. "
            "Raise this pipe's TIMEOUT valve for a slow model."
        )

    def _not_found(self, sub_id: str) -> str:
        tried = "".join(f"\n- {p.base_url} ({p.label}): {p.failure}" for p in self._probes if p.server is None)
        if not self._routes:
            if self.valves.BASE_URL.strip():
                return (
                    f"No models at the BASE_URL valve's server:{tried}\n"
                    "Check that the server runs, its address (e.g. http://127.0.0.1:8080/v1) and the API_KEY valve."
                )
            return f"No local model server found. Tried:{tried}\n{HOW_TO_START}"
        served = ", ".join(sorted(self._routes))
        return f"No local server serves the model '{sub_id}' now. Served: {served}. Pick one of those."


def api_base(url: str) -> str:
    """The API root from what a user types: `http://host:8080` and `…/v1/` both mean `…/v1`."""
    url = url.rstrip("/")
    return url if urlsplit(url).path else f"{url}/v1"


def parse_chunk(data: str, server: Server) -> dict:
    try:
        chunk = json.loads(data)
    except ValueError:
        raise LocalModelError(f"{server.base_url} sent a line that is not JSON: {data[:200]!r}") from None
    if not isinstance(chunk, dict):
        raise LocalModelError(f"{server.base_url} sent a chunk that is not a JSON object: {data[:200]!r}")
    return chunk


def server_error(server: Server, model: str, response: httpx.Response) -> str:
    detail = error_detail(response)
    hint = ""
    if response.status_code == 404:
        hint = " The server may no longer have this model: pick another."
    return f"{server.base_url} answered {response.status_code} for {model}: {detail}.{hint}"


def error_detail(response: httpx.Response) -> str:
    """The message in an error body, in the shapes OpenAI, Ollama, llama.cpp and vLLM use."""
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300].rstrip(". ") or response.reason_phrase
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            if data.get(key):
                return error_text(data[key])
    return json.dumps(data)[:300]


def error_text(error: Any) -> str:
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or json.dumps(error)
    return str(error)[:300].rstrip(". ")  # the caller ends the sentence


def describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


async def status(emit: Emitter, description: str, *, done: bool) -> None:
    if emit is not None:
        await emit({"type": "status", "data": {"description": description, "done": done, "hidden": done}})
