"""
title: Agent
author: tuichat
version: 0.1.0
description: A model of an OpenAI-compatible server with the chat's tools: it is sent their specs, the tool calls it streams back are run, each shown as Open WebUI's "Tool Executed" block, and it is asked again until it answers.
requirements: httpx
"""

import html
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from pydantic import BaseModel, Field


class AgentError(Exception):
    """What went wrong, worded for the person at the chat (Open WebUI shows str(e))."""


class Pipe:
    class Valves(BaseModel):
        BASE_URL: str = Field(default="http://127.0.0.1:11434/v1", description="The server's OpenAI API, ending in /v1 (Ollama's by default).")
        API_KEY: str = Field(default="", description="Sent as a Bearer token when set.")
        MODEL: str = Field(default="", description="The model to ask; empty: the first one the server lists.")
        MAX_ROUNDS: int = Field(default=8, ge=1, le=50, description="Rounds of tool calls before the agent gives up.")
        TIMEOUT: float = Field(default=120, gt=0, description="Seconds to wait for the server's next line.")

    def __init__(self) -> None:
        self.valves = self.Valves()

    async def pipe(self, body: dict, __tools__: dict | None = None) -> AsyncIterator[str]:
        tools = __tools__ or {}
        # Native function calling puts the specs in body["tools"]; legacy mode leaves it empty.
        specs = body.get("tools") or [{"type": "function", "function": t["spec"]} for t in tools.values()]
        messages = list(body.get("messages") or [])
        headers = {"Authorization": f"Bearer {self.valves.API_KEY}"} if self.valves.API_KEY else {}
        async with httpx.AsyncClient(base_url=self.valves.BASE_URL.rstrip("/"), headers=headers,
                                     timeout=httpx.Timeout(self.valves.TIMEOUT, connect=5)) as client:  # fmt: skip
            model = self.valves.MODEL or await self._first_model(client)
            for _ in range(self.valves.MAX_ROUNDS):
                calls: dict[int, dict[str, Any]] = {}
                content = ""
                async for piece in self._ask(client, model, messages, specs, calls):
                    content += piece
                    yield piece
                if not calls:
                    return
                if content and not content.endswith("\n"):
                    yield "\n"  # a block starts on its own line, as Open WebUI writes it
                ordered = [calls[i] for i in sorted(calls)]
                messages.append({"role": "assistant", "content": content or None, "tool_calls": ordered})
                for call in ordered:
                    result = await run_tool(tools, call)
                    yield tool_block(call, result)
                    messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
                # A blank line ends the blocks: a Markdown view without Open WebUI's parser
                # would otherwise read the answer as part of the last block's HTML.
                yield "\n"
            yield f"\n\n(Stopped: the model was still calling tools after {self.valves.MAX_ROUNDS} rounds; the MAX_ROUNDS valve sets how many.)"

    async def _first_model(self, client: httpx.AsyncClient) -> str:
        try:
            response = await client.get("/models")
            response.raise_for_status()
            models = [m["id"] for m in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise AgentError(f"cannot list the models of {self.valves.BASE_URL}: {exc}. Set the BASE_URL and MODEL valves.") from exc
        if not models:
            raise AgentError(f"{self.valves.BASE_URL} lists no models: set the MODEL valve.")
        return str(models[0])

    async def _ask(
        self, client: httpx.AsyncClient, model: str, messages: list, specs: list, calls: dict[int, dict[str, Any]]
    ) -> AsyncIterator[str]:
        """One streamed completion: its text as it comes; its tool calls, put together from
        their deltas (the id and name first, the arguments in pieces), into `calls`."""
        request: dict[str, Any] = {"model": model, "messages": messages, "stream": True}
        if specs:
            request["tools"] = specs
        try:
            async with client.stream("POST", "/chat/completions", json=request) as response:
                if response.status_code >= 400:
                    detail = (await response.aread()).decode("utf-8", "replace")[:300]
                    raise AgentError(f"{self.valves.BASE_URL} answered {response.status_code}: {detail}")
                async for line in response.aiter_lines():
                    data = line.removeprefix("data:").strip() if line.startswith("data:") else ""
                    if not data or data == "[DONE]":
                        continue
                    chunk = json.loads(data)
                    if chunk.get("error"):
                        raise AgentError(f"the server stopped with an error: {chunk['error']}")
                    for choice in chunk.get("choices") or []:
                        delta = choice.get("delta") or {}
                        for part in delta.get("tool_calls") or []:
                            add_delta(calls, part)
                        if delta.get("content"):
                            yield delta["content"]
        except httpx.HTTPError as exc:
            raise AgentError(f"cannot reach {self.valves.BASE_URL}: {exc or type(exc).__name__}") from exc


def add_delta(calls: dict[int, dict[str, Any]], part: dict[str, Any]) -> None:
    call = calls.setdefault(part.get("index", len(calls)), {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
    call["id"] = part.get("id") or call["id"]
    function = part.get("function") or {}
    call["function"]["name"] += function.get("name") or ""
    call["function"]["arguments"] += function.get("arguments") or ""


async def run_tool(tools: dict, call: dict[str, Any]) -> str:
    """The tool's result as text; what went wrong, as text too, so the model can say so (as
    Open WebUI's middleware gives the model the error of a tool that raised)."""
    name = call["function"]["name"]
    tool = tools.get(name)
    if tool is None:
        return f"Error: there is no tool named {name!r}; the tools are: {', '.join(tools) or 'none'}."
    try:
        arguments = json.loads(call["function"]["arguments"] or "{}")
    except ValueError as exc:
        return f"Error: the arguments are not JSON ({exc})."
    try:
        result = await tool["callable"](**arguments)
    except Exception as exc:
        return f"Error: {type(exc).__name__}: {exc}"
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)


def tool_block(call: dict[str, Any], result: str) -> str:
    """The block Open WebUI's middleware writes into the reply for a tool call it ran."""
    arguments = call["function"]["arguments"]
    return (
        f'<details type="tool_calls" done="true" id="{html.escape(call["id"])}" name="{html.escape(call["function"]["name"])}" '
        f'arguments="{html.escape(json.dumps(arguments))}" result="{html.escape(json.dumps(result, ensure_ascii=False))}" '
        f'files="" embeds="">\n<summary>Tool Executed</summary>\n</details>\n'
    )
