"""
title: Bring Your Own Key
author: tuichat-tests
version: 0.1.2
description: Chats with an OpenAI-compatible API. When no API key is configured, asks you for one in a dialog.
requirements: requests
"""

import os
from typing import Awaitable, Callable, Iterator, Optional, Union

import requests
from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        BASE_URL: str = Field(
            default=os.getenv("OPENAI_API_BASE_URL", "https://api.openai.com/v1"),
            description="OpenAI-compatible base URL.",
        )
        API_KEY: str = Field(
            default="",
            description="Leave empty to be asked for a key in the chat.",
        )
        MODEL: str = Field(default="gpt-4o-mini", description="Model to use.")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(
        self,
        body: dict,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
        __event_call__: Optional[Callable[[dict], Awaitable[object]]] = None,
    ) -> Union[str, dict, Iterator]:
        api_key = self.valves.API_KEY
        if not api_key:
            if __event_call__ is None:
                return "No API key is configured and I cannot ask you for one here."
            answer = await __event_call__(
                {
                    "type": "input",
                    "data": {
                        "title": "API key needed",
                        "message": f"Enter an API key for {self.valves.BASE_URL}",
                        "placeholder": "sk-...",
                        "type": "password",
                    },
                }
            )
            if isinstance(answer, dict) and answer.get("error"):
                return f"Could not ask for an API key: {answer['error']}"
            if not answer:
                return "Cancelled: no API key was given."
            api_key = str(answer).strip()
            if __event_emitter__:
                await __event_emitter__(
                    {"type": "notification", "data": {"type": "info", "content": "Using the key you entered."}}
                )

        # A blocking call inside `async def`, as many published pipes make.
        try:
            r = requests.post(
                f"{self.valves.BASE_URL}/chat/completions",
                json={**body, "model": self.valves.MODEL},
                headers={"Authorization": f"Bearer {api_key}"},
                stream=bool(body.get("stream")),
                timeout=30,
            )
            r.raise_for_status()
        except Exception as e:
            return f"Error: {e}"
        if body.get("stream"):
            return r.iter_lines()
        return r.json()["choices"][0]["message"]["content"]
