"""
title: CLI Valves
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        PREFIX: str = Field(default="", description="put before the reply")
        COUNT: int = Field(default=1, description="times to repeat the message")

    class UserValves(BaseModel):
        SIGNATURE: str = Field(default="", description="put after the reply")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __user__: dict) -> str:
        text = body["messages"][-1]["content"]
        signature = __user__["valves"].SIGNATURE
        return self.valves.PREFIX + " ".join([text] * self.valves.COUNT) + signature
