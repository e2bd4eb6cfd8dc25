"""
title: OpenAI-compatible chat (Fernet-encrypted key)
author: tuichat-tests
version: 0.2.0
license: MIT
description: A look-alike of published pipes that keep their API key valve encrypted with cryptography's Fernet, imported at top level and never declared (Open WebUI always has it).
"""

import base64
import hashlib
import os
from typing import Any

import aiohttp
from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from loguru import logger
from pydantic import BaseModel, Field


def _fernet() -> Fernet | None:
    secret = os.environ.get("WEBUI_SECRET_KEY", "")
    if not secret:
        return None
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def reveal(value: str) -> str:
    if not value.startswith("encrypted:") or (fernet := _fernet()) is None:
        return value
    try:
        return fernet.decrypt(value.removeprefix("encrypted:").encode()).decode()
    except InvalidToken:
        return ""


class Pipe:
    class Valves(BaseModel):
        BASE_URL: str = Field(default="https://api.openai.com/v1")
        API_KEY: str = Field(default="")
        MODEL: str = Field(default="gpt-4o-mini")

    def __init__(self) -> None:
        self.valves = self.Valves()

    async def pipe(self, body: dict[str, Any], __request__: Request | None = None) -> str:
        headers = {"Authorization": f"Bearer {reveal(self.valves.API_KEY)}"}
        payload = {"model": self.valves.MODEL, "messages": body["messages"], "stream": False}
        logger.debug("asking {}", self.valves.BASE_URL)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{self.valves.BASE_URL}/chat/completions", json=payload, headers=headers) as response:
                data = await response.json()
        return data["choices"][0]["message"]["content"]
