"""
title: Float Valves
"""

from typing import Any

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        TEMPERATURE: float = Field(default=0.7, description="sampling temperature")
        EXTRA: dict[str, Any] = Field(default_factory=dict, description="anything else, as JSON")

    class UserValves(BaseModel):
        TOP_P: float = Field(default=1.0, description="nucleus sampling")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        return f"t={self.valves.TEMPERATURE}"
