"""
title: OpenAI Manifold
author: tuichat-tests
author_url: https://github.com/example/openwebui-pipes
version: 0.3.1
license: MIT
description: Lists the chat models of any OpenAI-compatible server and forwards chats to them.
requirements: requests
"""

import os
from typing import Iterator, List, Union

import requests
from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        OPENAI_API_BASE_URL: str = Field(
            default=os.getenv("OPENAI_API_BASE_URL", "https://api.openai.com/v1"),
            description="Base URL of the OpenAI-compatible API (ends with /v1).",
        )
        OPENAI_API_KEY: str = Field(
            default=os.getenv("OPENAI_API_KEY", ""),
            description="API key sent as a Bearer token.",
        )
        MODEL_FILTER: str = Field(
            default="embedding,whisper,tts,dall-e",
            description="Comma-separated substrings: models whose id contains one are hidden.",
        )

    def __init__(self):
        self.type = "manifold"
        self.id = "openai"
        self.name = "OpenAI: "
        self.valves = self.Valves()

    def _headers(self) -> dict:
        return {
            "Authorization": f"Bearer {self.valves.OPENAI_API_KEY}",
            "Content-Type": "application/json",
        }

    def pipes(self) -> List[dict]:
        if not self.valves.OPENAI_API_KEY:
            return [{"id": "error", "name": "API Key not provided."}]
        try:
            r = requests.get(
                f"{self.valves.OPENAI_API_BASE_URL}/models",
                headers=self._headers(),
                timeout=10,
            )
            r.raise_for_status()
            models = r.json()
            hidden = [s.strip() for s in self.valves.MODEL_FILTER.split(",") if s.strip()]
            return [
                {"id": model["id"], "name": model.get("name", model["id"])}
                for model in models["data"]
                if not any(word in model["id"] for word in hidden)
            ]
        except Exception as e:
            print(f"Error: {e}")
            return [
                {
                    "id": "error",
                    "name": "Could not fetch models from OpenAI, please update the API Key in the valves.",
                },
            ]

    def pipe(self, body: dict, __user__: dict) -> Union[str, Iterator, dict]:
        print(f"pipe:{__name__}")

        # The model id arrives as "<function id>.<model>": keep what follows the first dot.
        model_id = body["model"][body["model"].find(".") + 1 :]
        payload = {**body, "model": model_id}

        r = None
        try:
            r = requests.post(
                url=f"{self.valves.OPENAI_API_BASE_URL}/chat/completions",
                json=payload,
                headers=self._headers(),
                stream=True,
                timeout=30,
            )
            r.raise_for_status()

            if body.get("stream", False):
                return r.iter_lines()
            else:
                return r.json()
        except Exception as e:
            return f"Error: {e}"
