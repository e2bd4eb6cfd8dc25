"""
title: Weather Tools
description: the weather in a city (with a status event) and a sum, for the agent tests.
"""

from pydantic import BaseModel


class Tools:
    class Valves(BaseModel):
        unit: str = "°C"

    def __init__(self):
        self.valves = self.Valves()

    async def get_weather(self, city: str, __event_emitter__=None) -> str:
        """
        Get the current weather in a city.
        :param city: The city's name, e.g. Paris.
        """
        await __event_emitter__({"type": "status", "data": {"description": f"Looking outside in {city}", "done": True}})
        return f"Sunny, 21 {self.valves.unit} in {city}"

    def add(self, a: int, b: int) -> int:
        """
        Add two numbers.
        :param a: The first number.
        :param b: The second number.
        """
        return a + b
