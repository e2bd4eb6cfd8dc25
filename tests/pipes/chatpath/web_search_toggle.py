"""
title: Web Search
author: tuichat tests
version: 0.1.0
description: Search the web for this chat's answers (a look-alike of the published toggle filters that switch a pipe's own search on)
"""

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        priority: int = Field(default=5, description="Filters run in ascending priority")
        max_results: int = Field(default=3, description="Results the pipe may fetch")

    class UserValves(BaseModel):
        region: str = Field(default="us", description="Where your searches come from")

    def __init__(self):
        self.valves = self.Valves()
        self.toggle = True  # a switch in the chat, off until the user turns it on
        self.icon = "data:image/svg+xml;base64,PHN2Zy8+"

    async def inlet(self, body: dict, __user__: dict | None = None, __event_emitter__=None) -> dict:
        # As the published ones do: Open WebUI's own search off, the pipe's search on.
        body.setdefault("features", {})["web_search"] = False
        user_valves = (__user__ or {}).get("valves")
        region = getattr(user_valves, "region", "us")
        body["web_search_options"] = {"max_results": self.valves.max_results, "region": region}
        if __event_emitter__ is not None:
            await __event_emitter__({"type": "status", "data": {"description": "Searching the web", "done": True}})
        return body

    def outlet(self, body: dict) -> dict:
        last = body["messages"][-1]
        last["content"] = f"{last['content']}\n\n🔎 searched the web (up to {self.valves.max_results} results)"
        return body
