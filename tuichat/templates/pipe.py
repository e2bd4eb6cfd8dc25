"""
title: New Pipe
author: you
version: 0.1.0
description: A streaming pipe to start from: valves, a status event and the chat history.
requirements:
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        # Admin settings: set them on the pipes screen (v) or with `tuichat pipes valves`.
        GREETING: str = Field(default="Hello", description="Put before every answer.")
        DELAY: float = Field(default=0.05, ge=0, le=5, description="Seconds between streamed words.")

    class UserValves(BaseModel):
        SHOUT: bool = Field(default=False, description="Answer in capitals.")

    def __init__(self) -> None:
        self.valves = self.Valves()

    async def pipe(
        self,
        body: dict,
        __user__: dict | None = None,
        __event_emitter__: Callable[[dict], Awaitable[None]] | None = None,
    ) -> AsyncIterator[str]:
        messages = body.get("messages", [])
        question = messages[-1]["content"] if messages else ""
        if isinstance(question, list):  # a message with images has a list of parts
            question = " ".join(part.get("text", "") for part in question if isinstance(part, dict))
        user_valves = (__user__ or {}).get("valves")
        shout = bool(getattr(user_valves, "SHOUT", False))

        if __event_emitter__ is not None:
            await __event_emitter__({"type": "status", "data": {"description": "Thinking…", "done": False}})

        answer = f"{self.valves.GREETING}! You said: {question}"
        for word in answer.split(" "):
            yield (word.upper() if shout else word) + " "
            await asyncio.sleep(self.valves.DELAY)

        if __event_emitter__ is not None:
            await __event_emitter__({"type": "status", "data": {"description": "Done", "done": True}})
