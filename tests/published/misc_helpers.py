"""
title: Persona Chat
author: tuichat-tests
version: 0.3.0
description: Puts a per-user persona in front of the system prompt, then asks an OpenAI-compatible model.
requirements: requests
"""

import json
import os
from typing import Generator, Iterator, Optional, Union

import requests
from pydantic import BaseModel, Field

from open_webui.utils.misc import (
    add_or_update_system_message,
    get_last_user_message,
    pop_system_message,
)


class Pipe:
    class Valves(BaseModel):
        BASE_URL: str = Field(
            default=os.getenv("OPENAI_API_BASE_URL", "https://api.openai.com/v1"),
            description="OpenAI-compatible base URL.",
        )
        API_KEY: str = Field(default=os.getenv("OPENAI_API_KEY", ""), description="API key.")
        MODEL: str = Field(default="gpt-4o-mini", description="Model to use.")

    class UserValves(BaseModel):
        PERSONA: str = Field(default="helpful assistant", description="Who the model should be.")
        MAX_WORDS: int = Field(default=0, description="Ask for at most this many words (0 = no limit).")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __user__: Optional[dict] = None) -> Union[str, Generator, Iterator]:
        user_valves = (__user__ or {}).get("valves") or self.UserValves()

        question = get_last_user_message(body["messages"])
        if not question:
            return "Ask me something first."

        # pop_system_message does not change the list it is given.
        system_message, other_messages = pop_system_message(body["messages"])
        persona = f"You are a {user_valves.PERSONA}."
        if user_valves.MAX_WORDS:
            persona += f" Answer in at most {user_valves.MAX_WORDS} words."
        messages = add_or_update_system_message(persona, list(body["messages"]))

        payload = {"model": self.valves.MODEL, "messages": messages, "stream": body.get("stream", False)}
        headers = {"Authorization": f"Bearer {self.valves.API_KEY}", "Content-Type": "application/json"}
        try:
            r = requests.post(
                f"{self.valves.BASE_URL}/chat/completions",
                json=payload,
                headers=headers,
                stream=payload["stream"],
                timeout=30,
            )
            r.raise_for_status()
        except Exception as e:
            return f"Error: {e}"

        note = "" if system_message else " (no system prompt of your own)"
        if not payload["stream"]:
            return r.json()["choices"][0]["message"]["content"] + note
        return self._text(r, note)

    def _text(self, r, note: str) -> Generator[str, None, None]:
        for line in r.iter_lines():
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            delta = json.loads(line[len(b"data: ") :])["choices"][0].get("delta", {})
            if delta.get("content"):
                yield delta["content"]
        if note:
            yield note
