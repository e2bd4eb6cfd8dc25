"""
title: New Manifold
author: you
version: 0.1.0
description: One function offering several models; each appears in the model picker as <id>.<model>.
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        MODELS: str = Field(default="small,large", description="Comma-separated model names this manifold offers.")

    def __init__(self) -> None:
        self.valves = self.Valves()

    def pipes(self) -> list[dict]:
        # Called whenever models are listed, so a valve change shows at once.
        names = [name.strip() for name in self.valves.MODELS.split(",") if name.strip()]
        return [{"id": name, "name": name.title()} for name in names]

    def pipe(self, body: dict) -> str:
        # body["model"] is "<function id>.<model id>".
        model = body.get("model", "").split(".", 1)[-1]
        messages = body.get("messages", [])
        question = messages[-1]["content"] if messages else ""
        return f"**{model}** heard: {question}"
