"""
title: Task Aware Chat
author: tuichat-tests
version: 0.1.0
description: Answers chats word by word, and answers Open WebUI's background tasks (title, tags, follow-ups) with the JSON they expect.
"""

import asyncio
import json
from typing import AsyncGenerator, Optional, Union

from pydantic import BaseModel, Field

from open_webui.constants import TASKS


class Pipe:
    class Valves(BaseModel):
        WORD_DELAY: float = Field(default=0.0, description="Seconds between streamed words.")

    def __init__(self):
        self.valves = self.Valves()

    @staticmethod
    def _question(body: dict, task_body: Optional[dict]) -> str:
        # For tasks the body holds Open WebUI's prompt; the chat itself is in __task_body__.
        messages = (task_body or {}).get("messages") or body.get("messages") or []
        for message in reversed(messages):
            if message.get("role") == "user":
                return str(message.get("content") or "")
        return ""

    async def pipe(
        self,
        body: dict,
        __task__: Optional[str] = None,
        __task_body__: Optional[dict] = None,
    ) -> Union[str, AsyncGenerator[str, None]]:
        question = self._question(body, __task_body__)

        if __task__ == TASKS.TITLE_GENERATION:
            words = question.split()[:4]
            return json.dumps({"title": " ".join(w.capitalize() for w in words) or "New Chat"})
        if __task__ == TASKS.TAGS_GENERATION:
            return json.dumps({"tags": ["Testing"]})
        if __task__ == TASKS.FOLLOW_UP_GENERATION:
            return json.dumps({"follow_ups": [f"Tell me more about {question}", "What else?"]})
        if __task__:
            return ""  # other tasks: nothing to say

        return self._answer(question)

    async def _answer(self, question: str) -> AsyncGenerator[str, None]:
        for word in f"You asked: {question}".split(" "):
            await asyncio.sleep(self.valves.WORD_DELAY)
            yield word + " "
