"""
title: Relay To Another Model
author: tuichat-tests
version: 0.5.0
description: Sends the conversation to another model through Open WebUI's own generate_chat_completion and wraps its answer.
"""

import json
from typing import AsyncGenerator, Optional, Union

from pydantic import BaseModel, Field

from open_webui.models.users import Users
from open_webui.utils.chat import generate_chat_completion


class Pipe:
    class Valves(BaseModel):
        TARGET_MODEL: str = Field(
            default="echo",
            description="Id of the model (any Open WebUI model, a pipe too) that answers.",
        )
        PREFIX: str = Field(default="Other pipe said: ", description="Put before the answer.")

    def __init__(self):
        self.valves = self.Valves()

    async def pipe(
        self,
        body: dict,
        __user__: dict,
        __request__=None,
    ) -> Union[str, AsyncGenerator[str, None]]:
        user = await Users.get_user_by_id(__user__["id"])
        form_data = {
            "model": self.valves.TARGET_MODEL,
            "messages": body["messages"],
            "stream": bool(body.get("stream")),
        }
        try:
            response = await generate_chat_completion(__request__, form_data, user)
        except Exception as e:
            return f"Error calling {self.valves.TARGET_MODEL}: {e}"

        if form_data["stream"]:
            return self._relay(response)

        if isinstance(response, dict) and "choices" in response:
            return self.valves.PREFIX + response["choices"][0]["message"]["content"]
        return f"Error: unexpected response from {self.valves.TARGET_MODEL}: {response}"

    async def _relay(self, response) -> AsyncGenerator[str, None]:
        yield self.valves.PREFIX
        async for item in response.body_iterator:
            if isinstance(item, bytes):
                item = item.decode("utf-8")
            for line in item.splitlines():
                line = line.strip()
                if not line.startswith("data:") or line == "data: [DONE]":
                    continue
                try:
                    chunk = json.loads(line[len("data:") :])
                except json.JSONDecodeError:
                    continue
                choices = chunk.get("choices") or []
                content = (choices[0].get("delta") or {}).get("content") if choices else None
                if content:
                    yield content
