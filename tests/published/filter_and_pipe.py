"""
title: Shouting Pipe (with its own filter)
author: tuichat-tests
version: 0.1.0
description: One file with a Filter and a Pipe. Open WebUI loads the Pipe (it looks for Pipe first); the Filter class only serves as a helper here.
"""

from typing import Optional

from pydantic import BaseModel, Field


class Filter:
    class Valves(BaseModel):
        priority: int = Field(default=0, description="Filter order.")
        MAX_LENGTH: int = Field(default=200, description="Longest message let through.")

    def __init__(self):
        self.valves = self.Valves()

    def inlet(self, body: dict, __user__: Optional[dict] = None) -> dict:
        for message in body.get("messages", []):
            if isinstance(message.get("content"), str):
                message["content"] = message["content"][: self.valves.MAX_LENGTH].strip()
        return body

    def outlet(self, body: dict, __user__: Optional[dict] = None) -> dict:
        return body


class Pipe:
    class Valves(BaseModel):
        SUFFIX: str = Field(default="!", description="Added after the shouted text.")

    def __init__(self):
        self.valves = self.Valves()
        self.filter = Filter()

    def pipe(self, body: dict) -> str:
        body = self.filter.inlet(body)
        text = body["messages"][-1]["content"]
        return text.upper() + self.valves.SUFFIX
