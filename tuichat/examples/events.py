"""
title: Event Tour
author: tuichat
version: 0.1.0
description: Sends every kind of __event_emitter__ event (status, citations, toasts, files, title, follow-ups...) between streamed text.
"""

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable

# A small badge for the `files` event. It is built here as a data: URL so the
# demo needs no file upload and no network.
BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="160" height="40">
<rect width="160" height="40" rx="8" fill="#4f46e5"/>
<text x="80" y="26" font-family="sans-serif" font-size="16" fill="white"
 text-anchor="middle">tuichat</text>
</svg>"""
BADGE_URL = "data:image/svg+xml;base64," + base64.b64encode(BADGE_SVG.encode()).decode()

PAUSE = 0.05  # seconds between steps, so each event can be seen arriving


class Pipe:
    async def pipe(
        self,
        body: dict,
        __event_emitter__: Callable[[dict], Awaitable[None]] | None = None,
    ) -> AsyncIterator[str]:
        async def emit(event_type: str, data) -> None:
            # There is no emitter outside a chat with a live browser session:
            # API calls and background tasks (title generation, for one) get
            # None. Routing every event through here keeps the pipe working
            # there, just without the extras.
            if __event_emitter__ is not None:
                await __event_emitter__({"type": event_type, "data": data})

        # A status line with done=False shows as "in progress" above the reply.
        await emit("status", {"description": "Starting the tour…", "done": False})
        await asyncio.sleep(PAUSE)

        # `message` appends to the reply's content and `replace` overwrites it.
        # Open WebUI 0.12 shows that content only while the reply has no
        # streamed output: the first yield below hides it, and the final
        # completion sets the content to the streamed text, so in the browser
        # "Ready." is gone when the reply ends (it was the displayed content up
        # to 0.6, which many published pipes still expect). tuichat keeps the
        # 0.6 behaviour: these events edit the text in order with what is
        # streamed, so "Ready." stays at the top of this reply.
        await emit("message", {"content": "Warming up… "})
        await asyncio.sleep(PAUSE)
        await emit("message", {"content": "almost ready…"})
        await asyncio.sleep(PAUSE)
        await emit("replace", {"content": "Ready.\n\n"})
        await asyncio.sleep(PAUSE)

        yield "This reply is a tour of the events a pipe can send.\n\n"
        if __event_emitter__ is None:
            yield "_(No event emitter here, so only the text part of the tour runs.)_\n\n"

        # Citations and sources share one shape: parallel lists `document`
        # (the quoted text) and `metadata` (where each piece came from), plus
        # the `source` they belong to. Both types render as citation chips.
        await emit("status", {"description": "Citing sources", "done": False})
        await emit(
            "citation",
            {
                "document": ["Pipes are Python functions that act as models in Open WebUI."],
                "metadata": [
                    {"source": "https://docs.openwebui.com/features/plugin/functions/pipe"}
                ],
                "source": {"name": "Open WebUI docs: Pipe functions"},
            },
        )
        await emit(
            "source",
            {
                "document": [
                    "A status event with done=False shows a progress line.",
                    "A notification event pops up a toast.",
                ],
                "metadata": [
                    {"source": "events-guide.md", "name": "Events guide, part 1"},
                    {"source": "events-guide.md", "name": "Events guide, part 2"},
                ],
                "source": {"name": "events-guide.md", "id": "events-guide.md"},
            },
        )
        await asyncio.sleep(PAUSE)
        yield "**Citations** are attached to this message as source chips. "
        yield "Two were sent: one `citation` and one `source`.\n\n"

        # A hidden status hides the whole status area (the history is kept):
        # handy for steps the user needn't see.
        await emit("status", {"description": "Internal bookkeeping", "done": True, "hidden": True})
        await asyncio.sleep(PAUSE)

        # Notifications are toasts; `type` is info, success, warning or error.
        await emit("notification", {"type": "info", "content": "This is an info notification."})
        await asyncio.sleep(PAUSE)
        await emit("notification", {"type": "warning", "content": "And this is a warning."})
        yield "**Notifications** pop up as toasts: an info, then a warning.\n\n"
        await asyncio.sleep(PAUSE)

        # `files` attaches files or images to the message.
        await emit("files", {"files": [{"type": "image", "url": BADGE_URL}]})
        yield "**Files**: an image was attached to this message.\n\n"
        await asyncio.sleep(PAUSE)

        # chat:title's data is the title string itself, not a dict.
        await emit("chat:title", "Event tour")
        yield "**Chat title**: this chat is now called *Event tour*.\n\n"
        await asyncio.sleep(PAUSE)

        await emit(
            "chat:message:follow_ups",
            {"follow_ups": ["What does a hidden status do?", "How do I ask the user a question?"]},
        )
        yield "**Follow-ups**: suggested next questions appear below this reply."

        # Finish with done=True so the status line stops looking busy.
        await emit("status", {"description": "Tour complete", "done": True})
