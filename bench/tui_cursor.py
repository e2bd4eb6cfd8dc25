"""Reading keys on long replies: `python bench/tui_cursor.py [--runs 5]`.

A store holds one chat of three pairs: a short question, then the ~12,000-character reply
`tui_stream.py` streams (headings, lists, fences, tables: ~640 widgets once shown). A
headless `TuichatApp` at 100x40 (`run_test`) opens it and then, RUNS times each, times
each key from its posting (as a terminal's read delivers it) until the last paint it caused
(none for 0.3 s after; scrolls are not animated, so a scroll is one step):

- ctrl+up / ctrl+down: the message cursor moved from one message to the next, over the
  long replies (a class on the message leaves one and lands on the next);
- tab / escape: the conversation focused (Tab from the prompt) and left again.

The baseline, in the same process, is a bare Textual app showing the same messages as
`Static` (questions) and `Markdown` (replies) in a VerticalScroll: its cursor is the same
class and rule moved with `add_class` / `remove_class`, and the scroll focused with
`focus()`, Textual's own way (every widget under the message restyled).
Headless, so the final write to the terminal is skipped; layout and rendering are not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.containers import VerticalScroll  # noqa: E402
from textual.screen import Screen  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import Markdown, Static  # noqa: E402

from bench.tui_long_chat import settle, wait_for  # noqa: E402
from bench.tui_stream import make_reply  # noqa: E402
from tuichat.store import Store  # noqa: E402
from tuichat.ui.app import TuichatApp  # noqa: E402
from tuichat.ui.chat.screen import ChatScreen  # noqa: E402
from tuichat.ui.widgets.conversation import Conversation  # noqa: E402

SIZE = (100, 40)
PAIRS = 3
QUIET = 0.3  # seconds without a paint: the key's work is done
TIMEOUT = 30.0
QUESTION = "How do I stream tokens into a widget without a layout each time?"

Timings = dict[str, list[float]]


async def make_db(path: Path) -> str:
    store = await Store.open(path)
    try:
        chat = await store.chats.create("Long replies", model_id="echo")
        for _ in range(PAIRS):
            await store.chats.add_message(chat.id, "user", QUESTION)
            await store.chats.add_message(chat.id, "assistant", make_reply(), model_id="echo")
        return chat.id
    finally:
        await store.close()


class Paints:
    """When the screen was last painted (every app's screen, while this is in use)."""

    def __init__(self) -> None:
        self.last = 0.0
        self._refresh = Screen._compositor_refresh

    def __enter__(self) -> Paints:
        refresh = self._refresh

        def painted(screen: Screen[object]) -> None:
            refresh(screen)
            self.last = time.perf_counter()

        Screen._compositor_refresh = painted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        Screen._compositor_refresh = self._refresh  # type: ignore[method-assign]


async def timed(paints: Paints, act: Callable[[], Awaitable[object]]) -> float:
    """Seconds from `act` (a key posted) until the last paint it caused: the screen is
    quiet for QUIET seconds after it."""
    start = time.perf_counter()
    paints.last = 0.0
    await act()
    acted = time.perf_counter()
    while True:
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        if paints.last > start and now - max(paints.last, acted) >= QUIET:
            return paints.last - start
        if now - start > TIMEOUT:
            raise TimeoutError(f"the key changed nothing on the screen in {TIMEOUT:g} s")


async def keys(timings: Timings, runs: int, press: Callable[[str], Awaitable[object]]) -> None:
    """The cursor stepped up over every message and back down, then focus in and out."""
    with Paints() as paints:
        for _ in range(runs):
            for key in ("up", "down"):
                for _ in range(2 * PAIRS - 1):
                    timings[f"ctrl+{key}"].append(await timed(paints, lambda k=key: press(f"ctrl+{k}")))
            timings["tab"].append(await timed(paints, lambda: press("tab")))
            timings["escape"].append(await timed(paints, lambda: press("escape")))


async def tuichat_run(db: Path, chat_id: str, runs: int) -> Timings:
    app = TuichatApp(db)
    timings: Timings = {"ctrl+up": [], "ctrl+down": [], "tab": [], "escape": []}
    async with app.run_test(size=SIZE) as pilot:
        app.animation_level = "none"  # a scroll is one step: the work, not the animation, timed
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "the chat screen")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await wait_for(pilot, lambda: screen.listing is not None, "the pipes to be listed")
        await screen.open_chat(chat_id)
        await settle(pilot, screen.query_one(Conversation))

        async def press(key: str) -> None:
            app.post_message(events.Key(key, None))  # as a terminal delivers it; Pilot's waiting is not timed

        await keys(timings, runs, press)
    return timings


class BareChat(App[None]):
    """The same messages, Textual's plainest way; the cursor a class moved, as tuichat's is."""

    CSS = """
    VerticalScroll { layout: stream; padding: 0 1; }
    VerticalScroll > Static { margin: 1 0 0 8; padding: 0 1; background: $boost; }
    VerticalScroll > Markdown { margin: 1 0 0 0; }
    VerticalScroll > .-cursor { background: $accent 25%; border-left: thick $accent; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.cursor: Widget | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(can_focus=True):
            for _ in range(PAIRS):
                yield Static(QUESTION, markup=False)
                yield Markdown(make_reply())

    def step(self, by: int) -> None:
        messages = list(self.query_one(VerticalScroll).children)
        index = messages.index(self.cursor) if self.cursor in messages else len(messages) - 1  # the last reply's
        if self.cursor is not None:
            self.cursor.remove_class("-cursor")
        self.cursor = messages[max(0, min(len(messages) - 1, index + by))]
        self.cursor.add_class("-cursor")
        self.cursor.scroll_visible()


async def bare_run(runs: int) -> Timings:
    app = BareChat()
    timings: Timings = {"ctrl+up": [], "ctrl+down": [], "tab": [], "escape": []}
    acts: dict[str, Callable[[], None]] = {
        "ctrl+up": lambda: app.step(-1),
        "ctrl+down": lambda: app.step(1),
        "tab": lambda: app.query_one(VerticalScroll).focus(),
        "escape": lambda: app.set_focus(None),
    }

    async def press(key: str) -> None:
        acts[key]()

    async with app.run_test(size=SIZE) as pilot:
        app.animation_level = "none"
        await settle(pilot, app.query_one(VerticalScroll))
        await keys(timings, runs, press)
    return timings


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:6.1f} ms, max {max(values) * 1000:6.1f} ms"


async def main(runs: int) -> None:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tuichat.db"
        chat_id = await make_db(db)
        ours = await tuichat_run(db, chat_id, runs)
    bare = await bare_run(runs)
    print(f"{PAIRS} replies of {len(make_reply()):,} characters, {runs} runs, load average {load:.2f} -> {os.getloadavg()[0]:.2f}")
    for key in ours:
        ratio = statistics.median(ours[key]) / statistics.median(bare[key])
        print(f"{key:10} tuichat {ms(ours[key])} | bare Textual {ms(bare[key])} | ratio {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
