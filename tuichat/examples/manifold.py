"""
title: Demo Manifold
author: tuichat
version: 0.1.0
description: One function, three models (Demo/Reverse, Demo/Shout, Demo/Count), picked by the sub id in body["model"].
"""

import asyncio
from collections.abc import AsyncIterator


def reverse(text: str) -> str:
    return text[::-1]


def shout(text: str) -> str:
    return text.upper().rstrip(".!?") + "!"


def count(text: str) -> str:
    return (
        f"- **Characters:** {len(text)}\n"
        f"- **Words:** {len(text.split())}\n"
        f"- **Lines:** {len(text.splitlines())}"
    )


# sub-model id -> (display name, transform). pipes() and pipe() both read this
# table, so the model list and the dispatch cannot drift apart.
MODELS = {
    "reverse": ("Reverse", reverse),
    "shout": ("Shout", shout),
    "count": ("Count", count),
}


class Pipe:
    def __init__(self):
        # Open WebUI glues this prefix straight onto each sub-model name, with
        # no separator, so the models appear as "Demo/Reverse" and so on.
        self.name = "Demo/"

    def pipes(self) -> list[dict]:
        # Having a `pipes` attribute is what makes this a manifold. Each entry
        # becomes a model with id "<function id>.<entry id>", e.g.
        # "manifold.reverse". It runs whenever the model list is rebuilt, so
        # keep it fast (cache anything expensive, such as a remote model list).
        return [{"id": model_id, "name": name} for model_id, (name, _) in MODELS.items()]

    async def pipe(self, body: dict) -> AsyncIterator[str]:
        # body["model"] is the full id, "<function id>.<sub id>"; the sub id is
        # everything after the first dot.
        model = body.get("model", "")
        sub_id = model[model.find(".") + 1 :]
        if sub_id not in MODELS:
            # Answer politely instead of raising: an exception inside a
            # generator cuts the stream off with only a bare error message.
            yield f"Unknown model `{model}`. Try one of: {', '.join(MODELS)}."
            return

        text = last_user_text(body.get("messages", []))
        if not text.strip():
            yield "Send me some text to transform."
            return

        _, transform = MODELS[sub_id]
        result = transform(text)
        # Stream in small slices to show how a reply builds up. Awaiting
        # asyncio.sleep (never time.sleep) lets the server serve other
        # requests meanwhile.
        for start in range(0, len(result), 6):
            yield result[start : start + 6]
            await asyncio.sleep(0.01)


def last_user_text(messages: list[dict]) -> str:
    """The text of the most recent user message, or "" if there is none."""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content") or ""
        if isinstance(content, list):
            # Messages with images or files carry a list of parts such as
            # [{"type": "text", "text": "..."}, {"type": "image_url", ...}].
            return "\n".join(
                part.get("text", "")
                for part in content
                if isinstance(part, dict) and part.get("type") == "text"
            )
        return str(content)
    return ""
