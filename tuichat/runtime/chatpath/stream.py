"""The stream stage: every JSON chunk of the pipe's stream (the finish chunk too, not
`[DONE]`) through each stream filter in order. A hook's return replaces the chunk; a falsy
one drops it; one that raises drops only that chunk (Open WebUI logs it; we list it in the
activity, once per filter and kind), and later chunks still pass. Each filter's chunks
seen, rewritten and dropped, and its time, are tallied and listed when the stream ends."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any

import orjson

from tuichat.runtime.chatpath.changes import StreamTally
from tuichat.runtime.chatpath.filters import Filter
from tuichat.runtime.chatpath.hooks import call_hook
from tuichat.runtime.invocation import codec

Report = Callable[[dict[str, Any]], None]


def parse_chunk(text: str) -> dict[str, Any] | None:
    """The JSON object of a `data: {...}` line; None for anything else (`[DONE]`, text)."""
    if not text.startswith("data:"):
        return None
    payload = text[5:].strip()
    if not payload.startswith("{"):
        return None
    try:
        chunk = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return chunk if isinstance(chunk, dict) else None


def delta_text(chunk: dict[str, Any]) -> str:
    """The content a chunk adds to the reply (what the outlets later see)."""
    choices = chunk.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        delta = choices[0].get("delta")
        if isinstance(delta, dict) and isinstance(delta.get("content"), str):
            return delta["content"]
    return ""


class StreamStage:
    """The stream filters of one turn, in order, each with its own extras (its emitter tags
    events with it) and its tally. `running` names the hook being awaited, for a stop."""

    def __init__(self, filters: list[Filter], offered: dict[str, dict[str, Any]], report: Report) -> None:
        self.filters = filters
        self.offered = offered
        self.report = report
        self.tallies = {f.id: StreamTally() for f in filters}
        self.running: tuple[str, str, float] | None = None
        self.canonical: bool | None = None  # the pipe's lines are in orjson's formatting

    async def line(self, chunk: dict[str, Any], sse: str) -> tuple[dict[str, Any], str] | None:
        """The chunk (parsed from the SSE line `sse`) after every stream filter, and its new
        line; None when one dropped it.

        A filter rewrote the chunk when its JSON differs after the hook (a hook may edit the
        chunk in place): each filter's result is compared with the text before it, the
        first with the line the chunk came in. When the pipe's lines are not in orjson's
        formatting (its own `data:` strings; seen on the first chunk), the first comparison
        parses that line again. The last text is the line sent, as before the tally."""
        event: Any = chunk
        line: str | None = sse
        if self.canonical is None:  # the first chunk: is the pipe's text what `codec.dumps` writes?
            self.canonical = sse == f"data: {codec.dumps(chunk)}\n\n"
        first = True
        culprit: Filter | None = None
        for f in self.filters:
            tally = self.tallies[f.id]
            tally.chunks += 1
            began = time.monotonic()
            self.running = (f.id, "stream", began)
            try:
                event = await call_hook(f, "stream", event, self.offered[f.id])
            except Exception as exc:
                self.running = None
                tally.seconds += time.monotonic() - began
                tally.raised += 1
                tally.dropped += 1
                self.report({"filter": f.id, "hook": "stream", "error": f"{type(exc).__name__}: {exc}",
                             "traceback": traceback.format_exc(), "outcome": "chunk dropped"})  # fmt: skip
                return None
            self.running = None
            tally.seconds += time.monotonic() - began
            if not event:
                tally.dropped += 1
                self.report({"filter": f.id, "hook": "stream", "outcome": "chunk dropped (it returned a falsy value)"})
                return None
            if isinstance(event, dict):
                after = f"data: {codec.dumps(event)}\n\n"
                if after != line and not (first and not self.canonical and _same(sse, event)):
                    tally.rewritten += 1
                line = after
            else:  # passed on, as Open WebUI does; dropped at the end unless a later filter mends it
                culprit, line = f, None
            first = False
        if not isinstance(event, dict) or line is None:
            if culprit is not None:
                self.tallies[culprit.id].dropped += 1
                self.report({"filter": culprit.id, "hook": "stream",
                             "outcome": f"chunk dropped (it returned {type(event).__name__}, not a chunk)"})  # fmt: skip
            return None
        return event, line

    def records(self) -> list[dict[str, Any]]:
        """One record per stream filter for the whole stream (per chunk would flood)."""
        return [self.tallies[f.id].record(f.id) for f in self.filters]


def _same(sse: str, event: dict[str, Any]) -> bool:
    """Whether the line `sse` holds `event`'s JSON in other formatting (the pipe's own)."""
    try:
        return bool(orjson.loads(sse[5:].strip()) == event)
    except orjson.JSONDecodeError:
        return False
