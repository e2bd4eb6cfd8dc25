"""
title: Cited Answer
author: tuichat-tests
version: 0.2.1
description: Pretends to search a knowledge base, shows its progress, cites the documents it used and answers.
"""

import asyncio
from typing import Awaitable, Callable, Optional

from pydantic import BaseModel, Field

DOCUMENTS = [
    {
        "title": "Pipes",
        "url": "https://docs.openwebui.com/features/plugin/functions/pipe",
        "text": "A pipe adds a model to Open WebUI.",
    },
    {
        "title": "Valves",
        "url": "https://docs.openwebui.com/features/plugin/valves",
        "text": "Valves are settings an admin can change.",
    },
]


class Pipe:
    class Valves(BaseModel):
        DELAY: float = Field(default=0.0, description="Seconds to pretend each search step takes.")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(
        self,
        body: dict,
        __event_emitter__: Optional[Callable[[dict], Awaitable[None]]] = None,
    ) -> str:
        async def emit(event: dict) -> None:
            if __event_emitter__:
                await __event_emitter__(event)

        question = body["messages"][-1]["content"]
        await emit({"type": "status", "data": {"description": f"Searching for: {question}", "done": False}})
        await asyncio.sleep(self.valves.DELAY)

        for doc in DOCUMENTS:
            await emit(
                {
                    "type": "citation",
                    "data": {
                        "document": [doc["text"]],
                        "metadata": [{"source": doc["url"], "name": doc["title"]}],
                        "source": {"name": doc["title"], "url": doc["url"]},
                    },
                }
            )
        await emit(
            {"type": "status", "data": {"description": f"Found {len(DOCUMENTS)} sources", "done": True}}
        )
        await emit({"type": "chat:message:delta", "data": {"content": "Based on 2 sources:\n\n"}})
        return " ".join(doc["text"] for doc in DOCUMENTS)
