"""
title: Ask Me
author: tuichat
version: 0.1.0
description: Asks you questions in dialogs through __event_call__ and replies with your answers, handling Cancel and errors.
"""

from collections.abc import Awaitable, Callable
from typing import Any


def error_of(answer: Any) -> str | None:
    """The error message if an event call failed, otherwise None.

    Event calls never raise: when the browser tab disconnects or the call times
    out, Open WebUI returns {"error": "..."} instead of an answer.
    """
    if isinstance(answer, dict) and "error" in answer:
        return str(answer["error"])
    return None


class Pipe:
    async def pipe(
        self,
        body: dict,
        __user__: dict | None = None,
        __event_call__: Callable[[dict], Awaitable[Any]] | None = None,
    ) -> str:
        # Dialogs need a browser session to show them in. API calls and
        # background tasks (such as title generation) get None, so explain
        # rather than fail.
        if __event_call__ is None:
            return (
                "I'd like to ask you a few questions, but dialogs aren't available here: "
                "`__event_call__` only exists in a chat with a live session."
            )

        agreed = await __event_call__(
            {
                "type": "confirmation",
                "data": {
                    "title": "A few questions",
                    # The message is rendered as Markdown.
                    "message": "May I ask you **three** quick questions?",
                },
            }
        )
        if (error := error_of(agreed)) is not None:
            return f"I couldn't ask you anything: the dialog failed ({error})."
        # Confirm normally gives True and Cancel False, but Confirm may also
        # return a leftover input value, so test for truthiness, not `is True`.
        if not agreed:
            return "No problem, maybe another time. (Cancel makes the dialog return `False`.)"

        # Each question is the `data` of an "input" event call. Without a
        # "type" the dialog is a text box; "password" masks what is typed;
        # "select" offers `options`, either plain strings or {"label", "value"}
        # dicts (the value is what comes back).
        questions = [
            (
                "Name",
                {
                    "title": "Your name",
                    "message": "What should I call you?",
                    "placeholder": "e.g. Alice",
                    # "value" pre-fills the box.
                    "value": (__user__ or {}).get("name", ""),
                },
            ),
            (
                "Secret",
                {
                    "title": "A secret",
                    "message": "Type any secret word. It stays hidden and I won't repeat it.",
                    "placeholder": "secret",
                    "type": "password",
                },
            ),
            (
                "Colour",
                {
                    "title": "Favourite colour",
                    "message": "Pick one.",
                    "type": "select",
                    "options": [
                        {"label": "Red", "value": "red"},
                        {"label": "Green", "value": "green"},
                        {"label": "Blue", "value": "blue"},
                    ],
                },
            ),
        ]

        lines = ["Thanks! Here is what you told me:", ""]
        for label, data in questions:
            answer = await __event_call__({"type": "input", "data": data})

            if (error := error_of(answer)) is not None:
                lines.append(f"- **{label}:** the dialog failed ({error}).")
                # A failed call usually means the session has gone, so the
                # remaining questions would fail the same way.
                lines.append("")
                lines.append("I stopped asking there.")
                break
            if answer is False or answer is None:
                lines.append(f"- **{label}:** _skipped_ (cancelled).")
            elif answer == "":
                lines.append(f"- **{label}:** _left empty_.")
            elif data.get("type") == "password":
                # Never echo a secret back into the chat history.
                lines.append(f"- **{label}:** {len(str(answer))} characters long (not shown).")
            else:
                lines.append(f"- **{label}:** {answer}")

        return "\n".join(lines)
