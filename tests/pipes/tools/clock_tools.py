"""
title: Clock Tools
description: a tool for the tools tests: it reports its valves, user valves and id.
"""

from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        zone: str = "UTC"

    class UserValves(BaseModel):
        style: str = "short"

    def __init__(self):
        self.valves = self.Valves()

    async def now(self, city: str, __user__: dict = None, __id__: str = None, __event_emitter__=None) -> str:
        """
        The time in a city.
        :param city: where
        """
        await __event_emitter__({"type": "status", "data": {"description": f"looking up {city}", "done": True}})
        return f"noon in {city} ({self.valves.zone}, {__user__['valves'].style}, {__id__})"
