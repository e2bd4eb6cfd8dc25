"""
title: New Tools
author: you
version: 0.1.0
description: Tools a model can call: each public method is one, described by its docstring.
requirements:
"""

import datetime

from pydantic import BaseModel, Field


class Tools:
    class Valves(BaseModel):
        # Admin settings: set them on the pipes screen (v) or with `tuichat tools valves`.
        UNITS: str = Field(default="metric", description="metric or imperial")

    class UserValves(BaseModel):
        TIMEZONE_NAME: str = Field(default="UTC", description="Shown beside the time.")

    def __init__(self) -> None:
        self.valves = self.Valves()

    async def get_current_time(self, __user__: dict | None = None, __event_emitter__=None) -> str:
        """
        Get the current date and time.
        """
        if __event_emitter__ is not None:
            await __event_emitter__({"type": "status", "data": {"description": "Reading the clock", "done": True}})
        zone = getattr((__user__ or {}).get("valves"), "TIMEZONE_NAME", "UTC")
        return f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC (you are in {zone})"

    def add(self, a: float, b: float) -> float:
        """
        Add two numbers.
        :param a: The first number.
        :param b: The second number.
        """
        return a + b
