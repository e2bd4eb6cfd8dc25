"""
title: Valves Form
description: every kind of valve the form can edit; the reply reports the values it ran with
"""

import json
from enum import Enum
from typing import Literal, Optional

from pydantic import BaseModel, Field


class Colour(str, Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Pipe:
    class Valves(BaseModel):
        PREFIX: str = Field(default="", description="Put before the reply.")
        API_KEY: str = Field(default="", description="Sent to the provider.")
        MAX_TOKENS: int = Field(default=256, ge=1, le=4096, description="Longest reply, in tokens.")
        TEMPERATURE: float = Field(default=0.7, ge=0, le=2, description="Sampling temperature.")
        UPPERCASE: bool = Field(default=False, description="Shout the reply.")
        MODE: Literal["echo", "reverse"] = Field(default="echo", description="What to do with the text.")
        COLOUR: Colour = Field(default=Colour.RED, description="An Enum field.")
        STYLE: str = Field(
            default="plain",
            description="A select from json_schema_extra.",
            json_schema_extra={
                "input": {"type": "select", "options": [{"value": "plain", "label": "Plain text"}, {"value": "md", "label": "Markdown"}, "html"]}
            },
        )
        PASSPHRASE: str = Field(default="", description="Masked by its input type.", json_schema_extra={"input": {"type": "password"}})
        STOP: list[str] = Field(default_factory=list, description="Stop sequences, as JSON.")
        SUFFIX: Optional[str] = Field(default=None, description="Optional: blank means unset.")  # noqa: UP045 - Optional[...] on purpose
        SEED: Optional[int] = Field(default=None, description="Optional number.")  # noqa: UP045 - Optional[...] on purpose

    class UserValves(BaseModel):
        SIGNATURE: str = Field(default="", description="Put after the reply.")
        VERBOSE: bool = Field(default=False, description="Also report the user valves.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict, __user__: dict) -> str:
        text = body["messages"][-1]["content"]
        if self.valves.MODE == "reverse":
            text = text[::-1]
        if self.valves.UPPERCASE:
            text = text.upper()
        user = __user__["valves"]
        report = self.valves.model_dump(mode="json")
        if user.VERBOSE:
            report["user"] = user.model_dump(mode="json")
        return f"{self.valves.PREFIX}{text}{user.SIGNATURE}\n{json.dumps(report, sort_keys=True)}"
