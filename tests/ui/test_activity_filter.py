"""The activity pane's filter, driven with Pilot: f6 steps it through all → events → output →
logs; the pane's title says which; entries that arrive while it is on obey it, and it holds
as another reply is selected. Errors show under every filter."""

from __future__ import annotations

from pathlib import Path

from tests.ui.helpers import chat_app, chat_with, screen_lines, until, with_pipe
from tuichat.runtime.reply.model import ActivityEntry
from tuichat.ui.widgets.activity import ActivityPane, category

SIZE = (120, 40)

CHATTY = """
import logging, sys

class Pipe:
    async def pipe(self, body, __event_emitter__=None):
        text = body["messages"][-1]["content"]
        await __event_emitter__({"type": "status", "data": {"description": f"Working on {text}", "done": True}})
        print(f"printed {text}")
        sys.stderr.write(f"warned {text}\\n")
        logging.getLogger("chatty").warning(f"logged {text}")
        return f"reply to {text}"
"""


def pane_lines(screen: object) -> list[str]:
    """The pane's lines without their times (`+  0.01s `)."""
    lines = [strip.text.rstrip() for strip in screen.query_one(ActivityPane).lines]  # type: ignore[attr-defined]
    return [line.split("s ", 1)[1] if line.startswith("+") else line for line in lines]


def tags(screen: object) -> list[str]:
    return [line.split("]", 1)[0] + "]" for line in pane_lines(screen) if line.startswith("[")]


async def test_the_filter_key_narrows_the_pane_and_holds_for_new_and_other_replies(db_path: Path) -> None:
    await with_pipe(db_path, CHATTY, "chatty")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await chat_with(pilot, screen, "chatty", "one")
        assert tags(screen) == ["[request]", "[status]", "[stdout]", "[stderr]", "[log:WARNING chatty]"]
        assert any("f6 Filter" in line for line in screen_lines(app))  # the footer offers it

        await pilot.press("f6")
        assert any("Activity · events" in line for line in screen_lines(app))
        assert pane_lines(screen) == ["[status] Working on one (done)"]
        await pilot.press("f6")
        assert any("Activity · output" in line for line in screen_lines(app))
        assert pane_lines(screen) == ["[stdout] printed one", "[stderr] warned one"]
        await pilot.press("f6")
        assert any("Activity · logs" in line for line in screen_lines(app))
        assert tags(screen) == ["[request]", "[log:WARNING chatty]"]

        # A new reply streams in under the filter: only its logs arrive in the pane.
        await chat_with(pilot, screen, "chatty", "two")
        assert tags(screen) == ["[request]", "[log:WARNING chatty]"]
        assert pane_lines(screen)[-1] == "[log:WARNING chatty] logged two"
        # Selecting the older reply keeps the filter.
        await pilot.press("ctrl+up", "ctrl+up")  # over "two", the message sent, to the reply before
        await until(pilot, lambda: pane_lines(screen)[-1] == "[log:WARNING chatty] logged one")
        assert tags(screen) == ["[request]", "[log:WARNING chatty]"]
        assert any("Activity · logs" in line for line in screen_lines(app))

        await pilot.press("f6")  # back to all
        assert len(tags(screen)) == 5
        assert not any("Activity ·" in line for line in screen_lines(app))
        assert any("Activity" in line for line in screen_lines(app))


async def test_a_filter_with_nothing_to_show_says_how_much_it_hides(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        await chat_with(pilot, screen, "echo", "hi")  # a call record, no output, no events
        await pilot.press("f6", "f6")  # output
        assert pane_lines(screen) == ["No output for this reply (1 hidden by the filter)"]


def test_what_each_filter_shows() -> None:
    def entry(kind: str, data: object) -> ActivityEntry:
        return ActivityEntry(0.0, kind, data)  # type: ignore[arg-type]

    assert category(entry("event", {"type": "status"})) == "events"
    assert category(entry("call", {"call": {}, "reply": None})) == "events"
    assert category(entry("log", {"stream": "stdout", "text": "x"})) == "output"
    assert category(entry("log", {"stream": "stderr", "text": "x"})) == "output"
    assert category(entry("log", {"stream": "host", "text": "the host's last words"})) == "output"
    assert category(entry("log", {"stream": "log", "level": "INFO", "text": "x"})) == "logs"
    assert category(entry("request", {"model": "m"})) == "logs"
    assert category(entry("error", {"message": "boom"})) == "all"  # under every filter
    # The chat path: a filter hook's record is a log; one that failed shows under every filter;
    # what a filter hook emitted is an event, whichever hook.
    assert category(entry("log", {"filter": "f", "hook": "inlet", "ms": 0.1, "changes": []})) == "logs"
    assert category(entry("log", {"filter": "f", "hook": "outlet", "error": "boom", "traceback": "..."})) == "all"
    assert category(ActivityEntry(0.0, "event", {"type": "status"}, {"filter": "f", "hook": "stream"})) == "events"
