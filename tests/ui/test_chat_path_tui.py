"""The TUI's turn takes the chat path too: a global filter's hooks change what the person
sees, its status shows, and the activity pane lists each hook that ran, what it changed
and what failed, with the events it emitted tagged with the filter and hook."""

from __future__ import annotations

from pathlib import Path

from tests.ui.helpers import chat_app, chat_with, stored
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.ui.widgets.activity import ActivityPane

ECHO = '''
class Pipe:
    def pipe(self, body):
        yield body["messages"][-1]["content"]
'''

SHOUT = '''
class Filter:
    async def inlet(self, body, __event_emitter__):
        await __event_emitter__({"type": "status", "data": {"description": "shouting", "done": True}})
        body["messages"][-1]["content"] += "!"
        return body

    def stream(self, event):
        for choice in event.get("choices", []):
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                delta["content"] = delta["content"].upper()
        return event

    def outlet(self, body):
        raise ValueError("outlet tripped")
'''


async def test_a_global_filter_runs_around_the_pipe_in_the_tui(db_path: Path) -> None:
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            await FunctionLibrary(host).add(ECHO, function_id="parrot")
            await FunctionLibrary(host).add(SHOUT, function_id="shout")
        await store.functions.update("shout", is_global=True)
    async with chat_app(db_path, (110, 30)) as (_app, pilot, screen):
        view = await chat_with(pilot, screen, "parrot", "hello there")
        assert (view.reply.content, view.reply.error) == ("HELLO THERE!", None)  # inlet, then stream
        assert [s["description"] for s in view.reply.statuses] == ["shouting"]
        text = "\n".join(strip.text for strip in screen.query_one(ActivityPane).lines)
        flat = " ".join(text.split())  # the pane wraps long lines
        assert "[filter shout inlet] status: shouting (done)" in flat  # attributed to the filter and hook
        assert "[filter shout inlet] ran in " in flat and ": edited the user message (+1 char)" in flat
        assert "[filter shout stream] 2 chunks, 1 rewritten, 0 dropped, " in flat  # a word and the finish chunk
        assert "[filter shout outlet] filter 'shout' outlet failed" in text  # and its traceback under it
        assert 'raise ValueError("outlet tripped")' in text
