"""
title: SSE Passthrough
author: tuichat-tests
version: 1.2.0
license: MIT
description: Async proxy to an OpenAI-compatible endpoint. Streams the upstream SSE lines to Open WebUI untouched, as they arrive.
requirements: requests
"""

# aiohttp is what Open WebUI itself uses, httpx is the other common choice; a
# published pipe would list one of them in `requirements`. Whichever is installed
# is used; plain `requests` in a worker thread is the last resort.

import asyncio
import functools
import os
from typing import AsyncGenerator, Union

import requests
from pydantic import BaseModel, Field

try:
    import aiohttp
except ImportError:  # pragma: no cover - depends on the environment
    aiohttp = None

try:
    import httpx
except ImportError:  # pragma: no cover - depends on the environment
    httpx = None


class Pipe:
    class Valves(BaseModel):
        BASE_URL: str = Field(
            default=os.getenv("OPENAI_API_BASE_URL", "https://api.openai.com/v1"),
            description="OpenAI-compatible base URL.",
        )
        API_KEY: str = Field(
            default=os.getenv("OPENAI_API_KEY", ""),
            description="Bearer token for the upstream API.",
        )
        MODEL: str = Field(default="gpt-4o-mini", description="Upstream model id.")
        HTTP_CLIENT: str = Field(
            default="auto",
            description="aiohttp, httpx, requests, or auto (the first of them that is installed).",
        )
        TIMEOUT: int = Field(default=60, description="Request timeout in seconds.")

    def __init__(self):
        self.valves = self.Valves()

    # -- helpers ----------------------------------------------------------------------
    def _client(self) -> str:
        wanted = self.valves.HTTP_CLIENT.strip().lower()
        if wanted == "auto":
            if aiohttp is not None:
                return "aiohttp"
            if httpx is not None:
                return "httpx"
            return "requests"
        if wanted == "aiohttp" and aiohttp is None:
            raise RuntimeError("aiohttp is not installed")
        if wanted == "httpx" and httpx is None:
            raise RuntimeError("httpx is not installed")
        return wanted

    def _headers(self) -> dict:
        return {
            "Authorization": f"Bearer {self.valves.API_KEY}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        }

    def _url(self) -> str:
        return f"{self.valves.BASE_URL.rstrip('/')}/chat/completions"

    # -- entry point --------------------------------------------------------------------
    async def pipe(self, body: dict) -> Union[str, dict, AsyncGenerator[str, None]]:
        payload = {**body, "model": self.valves.MODEL}
        try:
            client = self._client()
        except Exception as e:
            return f"Error: {e}"
        if body.get("stream", False):
            return self._stream(payload, client)
        return await self._complete(payload, client)

    async def _complete(self, payload: dict, client: str) -> Union[str, dict]:
        try:
            if client == "aiohttp":
                timeout = aiohttp.ClientTimeout(total=self.valves.TIMEOUT)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    async with session.post(self._url(), json=payload, headers=self._headers()) as resp:
                        resp.raise_for_status()
                        return await resp.json()
            if client == "httpx":
                async with httpx.AsyncClient(timeout=self.valves.TIMEOUT) as session:
                    resp = await session.post(self._url(), json=payload, headers=self._headers())
                    resp.raise_for_status()
                    return resp.json()
            post = functools.partial(
                requests.post, self._url(), json=payload, headers=self._headers(), timeout=self.valves.TIMEOUT
            )
            resp = await asyncio.get_running_loop().run_in_executor(None, post)
            resp.raise_for_status()
            return resp.json()
        except Exception as e:
            return f"Error: {e}"

    async def _stream(self, payload: dict, client: str) -> AsyncGenerator[str, None]:
        if client == "aiohttp":
            lines = self._aiohttp_lines(payload)
        elif client == "httpx":
            lines = self._httpx_lines(payload)
        else:
            lines = self._requests_lines(payload)
        async for line in lines:
            # Each upstream line ("data: {...}", "data: [DONE]") goes out as it is;
            # the blank separator lines between events are dropped.
            if line:
                yield line

    async def _aiohttp_lines(self, payload: dict) -> AsyncGenerator[str, None]:
        timeout = aiohttp.ClientTimeout(total=self.valves.TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(self._url(), json=payload, headers=self._headers()) as resp:
                if resp.status != 200:
                    yield f"Error: HTTP {resp.status}: {await resp.text()}"
                    return
                async for raw in resp.content:
                    yield raw.decode("utf-8").strip()

    async def _httpx_lines(self, payload: dict) -> AsyncGenerator[str, None]:
        async with httpx.AsyncClient(timeout=self.valves.TIMEOUT) as session:
            async with session.stream("POST", self._url(), json=payload, headers=self._headers()) as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    yield f"Error: HTTP {resp.status_code}: {resp.text}"
                    return
                async for line in resp.aiter_lines():
                    yield line.strip()

    async def _requests_lines(self, payload: dict) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        post = functools.partial(
            requests.post,
            self._url(),
            json=payload,
            headers=self._headers(),
            stream=True,
            timeout=self.valves.TIMEOUT,
        )
        resp = await loop.run_in_executor(None, post)
        try:
            if resp.status_code != 200:
                yield f"Error: HTTP {resp.status_code}: {resp.text}"
                return
            lines = resp.iter_lines(decode_unicode=True)
            while True:
                line = await loop.run_in_executor(None, next, lines, None)
                if line is None:
                    break
                yield line.strip()
        finally:
            resp.close()
