"""
title: Echo
author: tuichat
version: 0.1.0
description: Streams your last message back word by word. Shows Valves, UserValves, list-style content and non-stream replies.
"""

import re
import time
from collections.abc import Iterator

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        """Admin settings, shared by everyone who uses this function."""

        PREFIX: str = Field(
            default="",
            description="Text put in front of every reply, e.g. 'You said: '.",
        )
        UPPERCASE: bool = Field(
            default=False,
            description="Echo the message back in upper case.",
        )

    class UserValves(BaseModel):
        """Per-user settings; each user sets their own values."""

        SIGNATURE: str = Field(
            default="",
            description="Added on its own line at the end of your replies.",
        )

    def __init__(self):
        # Open WebUI only applies the saved admin valves when the instance has a
        # `valves` attribute. It assigns a fresh Valves object before every
        # request, so never keep state in self.valves.
        self.valves = self.Valves()

    # `pipe` deliberately contains no `yield`: any function with a `yield` in
    # it is a generator and could never return a plain string. Returning either
    # a string or a generator from a helper serves both kinds of request.
    def pipe(self, body: dict, __user__: dict | None = None, __task__: str | None = None) -> str | Iterator[str]:
        # Open WebUI's background tasks (follow-ups, title, tags) call the chat's pipe too,
        # with a prompt asking for JSON: echoed back, its example JSON would read as an answer.
        if __task__ is not None:
            return ""
        text = last_user_text(body.get("messages", []))
        if not text.strip():
            text = "(nothing to echo: send some text)"
        elif self.valves.UPPERCASE:
            text = text.upper()

        reply = self.valves.PREFIX + text
        signature = self._user_valves(__user__).SIGNATURE
        if signature:
            reply += "\n\n" + signature

        if not body.get("stream"):
            return reply
        return self._stream_words(reply)

    def _user_valves(self, user: dict | None) -> BaseModel:
        # Open WebUI puts a UserValves instance in __user__["valves"], but only
        # when `pipe` declares __user__ and the module has a UserValves class.
        # API calls without a user give {}, so fall back to the defaults.
        valves = (user or {}).get("valves")
        if valves is None:
            return self.UserValves()
        if isinstance(valves, dict):
            return self.UserValves(**valves)
        return valves

    def _stream_words(self, reply: str) -> Iterator[str]:
        # Each piece is a word plus the whitespace after it, so line breaks
        # survive and no piece is ever "" (an empty string would end the
        # stream early: Open WebUI turns it into a stop chunk).
        for piece in re.findall(r"\S+\s*|\s+", reply):
            # A sync generator is iterated on Open WebUI's event loop thread,
            # so this sleep briefly pauses the whole server. That is fine for a
            # 20 ms demo delay; a pipe that waits on real I/O should be
            # `async def` and await instead (see the manifold example).
            time.sleep(0.02)
            yield piece


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
