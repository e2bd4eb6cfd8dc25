"""
title: Streaming Chat (SSE parser)
author: tuichat-tests
version: 0.4.0
license: MIT
description: Calls an OpenAI-compatible endpoint with stream=true, parses the Server-Sent Events itself and yields only the text, with status updates around the request.
requirements: requests
"""

import asyncio
import json
import os
from typing import AsyncGenerator, Awaitable, Callable, Optional

import requests
from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        BASE_URL: str = Field(
            default=os.getenv("OPENAI_API_BASE_URL", "https://api.openai.com/v1"),
            description="OpenAI-compatible base URL.",
        )
        API_KEY: str = Field(
            default=os.getenv("OPENAI_API_KEY", ""),
            description="API key for the endpoint.",
        )
        MODEL: str = Field(default="gpt-4o-mini", description="Model to call.")
        SHOW_STATUS: bool = Field(default=True, description="Show progress above the reply.")

    def __init__(self):
        self.valves = self.Valves()

    async def emit_status(
        self,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]],
        description: str,
        done: bool,
    ) -> None:
        if __event_emitter__ and self.valves.SHOW_STATUS:
            await __event_emitter__(
                {"type": "status", "data": {"description": description, "done": done}}
            )

    async def pipe(
        self,
        body: dict,
        __user__: Optional[dict] = None,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
    ) -> AsyncGenerator[str, None]:
        model = self.valves.MODEL
        await self.emit_status(__event_emitter__, f"Asking {model}...", False)

        payload = {
            "model": model,
            "messages": body.get("messages", []),
            "stream": True,  # always: the SSE is parsed here, whatever Open WebUI asked for
        }
        headers = {
            "Authorization": f"Bearer {self.valves.API_KEY}",
            "Content-Type": "application/json",
        }
        loop = asyncio.get_running_loop()
        try:
            response = await loop.run_in_executor(
                None,
                lambda: requests.post(
                    f"{self.valves.BASE_URL}/chat/completions",
                    json=payload,
                    headers=headers,
                    stream=True,
                    timeout=60,
                ),
            )
            response.raise_for_status()
        except Exception as e:
            await self.emit_status(__event_emitter__, f"Request failed: {e}", True)
            yield f"Error: {e}"
            return

        pieces = 0
        lines = response.iter_lines()
        try:
            while True:
                line = await loop.run_in_executor(None, next, lines, None)
                if line is None:
                    break
                line = line.decode("utf-8").strip()
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except json.JSONDecodeError:
                    continue
                choices = chunk.get("choices") or []
                if not choices:
                    continue
                content = (choices[0].get("delta") or {}).get("content")
                if content:
                    pieces += 1
                    yield content
        finally:
            response.close()

        await self.emit_status(__event_emitter__, f"Received {pieces} pieces", True)
