"""Opening and scrolling a long stored chat in the TUI: `python bench/tui_long_chat.py`.

A store holds one chat of 2,000 messages (1,000 user/assistant pairs of LLM-like text:
user messages of a few sentences, Markdown replies of a few hundred characters with
lists, inline code and, in every third reply, a code fence). A headless `TuichatApp` at
100x40 (`run_test`) is started on it and left until its pipes are listed. Then:

- open:   `await ChatScreen.open_chat(chat_id)` plus the refreshes until the conversation
          is painted (every Markdown has its blocks and the layout, scroll position and
          widget count have stopped changing), from an empty conversation each time;
          median, min and max of N runs; then the longest garbage-collector pause in the
          next FREED seconds: the chat closed is freed once the new one is painted
          (`ClosedChats`), in one pause (the scroll starts after it, as a reader's would);
- scroll: the conversation is focused and `pageup` keys are posted as a held key sends
          them (one every 30 ms, not waiting for the app) through the whole mounted window
          and beyond, until WINDOWS earlier windows have been mounted; scroll animation is
          off (`animation_level = "none"`) so each key moves one page at once. Event-loop
          stalls are measured all along with a 10 ms heartbeat task (how late it wakes:
          p95 and max), plus the wall time until the last page is painted and the time
          spent in the garbage collector (total and longest pause).

The baseline, measured in the same process, is a bare Textual app showing the same
messages the plainest way: a `layout: stream` VerticalScroll of Static (user) and
Markdown (assistant) widgets. It opens the same last window of messages; for scrolling
it has every message tuichat ends up with mounted from the start, and pages up through
them all, so the difference is what tuichat's widgets and windowed mounting cost.

Targets: open <= 0.5 s; no stall over 50 ms while scrolling.
Headless, so the final write to the terminal is skipped; layout and rendering are not.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.containers import VerticalScroll  # noqa: E402
from textual.pilot import Pilot  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import Markdown, Static  # noqa: E402

from tuichat.store import MessageRow, Store  # noqa: E402
from tuichat.ui.app import TuichatApp  # noqa: E402
from tuichat.ui.chat.screen import ChatScreen  # noqa: E402
from tuichat.ui.widgets.closed_chats import ClosedChats  # noqa: E402
from tuichat.ui.widgets.conversation import WINDOW, Conversation  # noqa: E402

SIZE = (100, 40)
HEARTBEAT = 0.010
FREED = ClosedChats.AFTER + 0.3  # seconds after a chat is opened: the one closed has been freed
KEY_INTERVAL = 0.03  # seconds between pageup presses (a held key repeats about 30 times a second)
TARGET_OPEN = 0.5
TARGET_STALL_P95 = 0.050
TARGET_STALL_MAX = 0.100
SETTLE_TIMEOUT = 60.0

WORDS = (
    "the model answers with a short explanation of how the function streams tokens into the "
    "widget and why the layout must stay cheap when the conversation grows long over a slow "
    "terminal connection so every frame counts and the user keeps scrolling back"
).split()


def make_messages(pairs: int, seed: int = 11) -> list[tuple[str, str]]:
    """(user, assistant) texts: a question of a few sentences, an LLM-like Markdown answer."""
    rng = random.Random(seed)

    def sentence() -> str:
        words = rng.choices(WORDS, k=rng.randint(6, 12))
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = f"**{rng.choice(WORDS)}**"
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = f"`{rng.choice(WORDS)}()`"
        return " ".join(words).capitalize() + "."

    out = []
    for n in range(pairs):
        user = " ".join(sentence().replace("**", "").replace("`", "") for _ in range(rng.randint(1, 3)))
        parts = [" ".join(sentence() for _ in range(rng.randint(2, 3)))]
        if n % 2 == 0:
            parts.append("\n".join(f"- {sentence()}" for _ in range(rng.randint(2, 3))))
        if n % 3 == 0:
            parts.append(
                f"```python\ndef answer_{n}(items: list[str]) -> int:\n"
                f"    return sum(len(item) for item in items) * {n}\n```"
            )
        parts.append(sentence())
        out.append((user, "\n\n".join(parts)))
    return out


async def make_db(path: Path, pairs: int) -> tuple[str, list[MessageRow]]:
    store = await Store.open(path)
    try:
        chat = await store.chats.create("A very long chat", model_id="echo")
        for user, assistant in make_messages(pairs):
            await store.chats.add_message(chat.id, "user", user)
            await store.chats.add_message(chat.id, "assistant", assistant, model_id="echo")
        return chat.id, await store.chats.messages(chat.id)
    finally:
        await store.close()


# -- measuring -----------------------------------------------------------------------------


def signature(container: Widget) -> tuple[object, ...]:
    """What changes while a conversation is still being mounted, laid out or scrolled."""
    markdowns = list(container.query(Markdown))
    unparsed = sum(1 for md in markdowns if md.source.strip() and not md.children)
    return (unparsed, sum(1 for _ in container.walk_children()), container.virtual_size, container.scroll_y, container.max_scroll_y)


async def settle(pilot: Pilot[object], container: Widget) -> float:
    """Pause until `container` has stopped changing and every Markdown has its blocks;
    returns the `perf_counter()` at which that final state was first seen painted."""
    deadline = time.perf_counter() + SETTLE_TIMEOUT
    last, seen, same = None, time.perf_counter(), 0
    while same < 2 or (last is not None and last[0]):
        await pilot.pause()  # processes every pending message, then refreshes the screen
        now = signature(container)
        if now != last:
            last, seen, same = now, time.perf_counter(), 0
        else:
            same += 1
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the conversation did not settle in {SETTLE_TIMEOUT:g} s: {last}")
    return seen


class GcPauses:
    """The garbage collector's pauses (a full collection walks every widget's objects)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)

    @property
    def longest(self) -> float:
        return max(self.pauses, default=0.0)


@dataclass
class Scroll:
    presses: int
    seconds: float
    stall_p95: float
    stall_max: float
    mounted: int  # message widgets mounted at the end
    gc_total: float  # seconds spent in the garbage collector while scrolling
    gc_max: float  # its longest pause


async def page_up_until(
    pilot: Pilot[object], container: Widget, done: Callable[[], bool], max_presses: int = 2000
) -> Scroll:
    container.focus()
    await settle(pilot, container)
    lateness: list[float] = []
    running = True

    async def heartbeat() -> None:
        while running:
            before = time.perf_counter()
            await asyncio.sleep(HEARTBEAT)
            lateness.append(time.perf_counter() - before - HEARTBEAT)

    app = pilot.app
    animation_level, app.animation_level = app.animation_level, "none"  # a page is one jump
    beat = asyncio.create_task(heartbeat())
    start = time.perf_counter()
    presses = 0
    with GcPauses() as gc_pauses:
        while not done() and presses < max_presses:
            key = events.Key("pageup", None)  # what the driver posts, without pilot's waits
            key.set_sender(app)
            app.post_message(key)
            presses += 1
            await asyncio.sleep(KEY_INTERVAL)
        end = await settle(pilot, container)
        running = False
        await beat
    app.animation_level = animation_level
    lateness.sort()
    return Scroll(
        presses=presses,
        seconds=end - start,
        stall_p95=lateness[int(0.95 * (len(lateness) - 1))],
        stall_max=lateness[-1],
        mounted=len(container.children),
        gc_total=sum(gc_pauses.pauses),
        gc_max=gc_pauses.longest,
    )


# -- tuichat --------------------------------------------------------------------------------


async def wait_for(pilot: Pilot[object], ready: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not ready():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def tuichat_run(
    db: Path, chat_id: str, runs: int, windows: int, total: int
) -> tuple[list[float], list[float], Scroll]:
    app = TuichatApp(db)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen), "the chat screen")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await wait_for(pilot, lambda: screen.listing is not None, "the pipes to be listed")
        conversation = screen.query_one(Conversation)
        opens, frees = [], []
        for _ in range(runs):
            await screen.open_chat(None)
            await settle(pilot, conversation)
            await pilot.pause(FREED)
            with GcPauses() as pauses:
                start = time.perf_counter()
                await screen.open_chat(chat_id)
                opens.append(await settle(pilot, conversation) - start)
                await pilot.pause(FREED)  # the chat closed is freed once this one is painted
            frees.append(pauses.longest)
        target = min(total, WINDOW * (1 + windows))
        scroll = await page_up_until(pilot, conversation, lambda: len(conversation.children) >= target)
    return opens, frees, scroll


# -- the baseline: a bare Textual app ---------------------------------------------------------


class BareChat(App[None]):
    CSS = """
    VerticalScroll { layout: stream; padding: 0 1; }
    VerticalScroll > Static { margin: 1 0 0 8; padding: 0 1; background: $boost; }
    VerticalScroll > Markdown { margin: 1 0 0 0; }
    """

    def compose(self) -> ComposeResult:
        yield VerticalScroll(can_focus=True)


def bare_widget(message: MessageRow) -> Widget:
    return Markdown(message.content) if message.role == "assistant" else Static(message.content, markup=False)


async def bare_run(messages: list[MessageRow], runs: int, scroll_count: int) -> tuple[list[float], Scroll]:
    app = BareChat()
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(VerticalScroll)
        opens = []
        for _ in range(runs):
            await log.remove_children()
            await settle(pilot, log)
            start = time.perf_counter()
            await log.mount_all([bare_widget(m) for m in messages[-WINDOW:]])
            log.anchor()
            opens.append(await settle(pilot, log) - start)
        await log.remove_children()
        await log.mount_all([bare_widget(m) for m in messages[-scroll_count:]])
        log.anchor()
        await settle(pilot, log)
        scroll = await page_up_until(pilot, log, lambda: log.scroll_y <= 0)
    return opens, scroll


# -- report ---------------------------------------------------------------------------------


def check(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def main(pairs: int, runs: int, windows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        made = time.perf_counter()
        chat_id, messages = await make_db(db, pairs)
        made = time.perf_counter() - made
        fences = sum(m.content.count("```") // 2 for m in messages)
        chars = statistics.mean(len(m.content) for m in messages if m.role == "assistant")
        print(
            f"chat: {len(messages):,} messages ({pairs:,} pairs; replies {chars:.0f} chars on average, "
            f"{fences} code fences in all), stored in {made:.1f} s; headless {SIZE[0]}x{SIZE[1]}; "
            f"tuichat mounts {WINDOW} messages per window\n"
        )
        scroll_count = min(len(messages), WINDOW * (1 + windows))
        bare_opens, bare_scroll = await bare_run(messages, runs, scroll_count)
        opens, frees, scroll = await tuichat_run(db, chat_id, runs, windows, len(messages))

    print(f"open the chat (last {WINDOW} messages painted), {runs} runs:")
    print(f"{'':9}{'median s':>9}{'min s':>8}{'max s':>8}")
    for label, values in (("bare", bare_opens), ("tuichat", opens)):
        print(f"{label:9}{statistics.median(values):9.3f}{min(values):8.3f}{max(values):8.3f}")
    print(f"{'target':9}{TARGET_OPEN:9.3f}")
    print(
        f"then, {ClosedChats.AFTER:g} s after the chat is shown, the chat closed is freed in one pause: "
        f"median {statistics.median(frees) * 1000:.0f} ms, max {max(frees) * 1000:.0f} ms"
    )

    print(
        f"\nscroll: pageup every {KEY_INTERVAL * 1000:.0f} ms from the bottom; tuichat until {windows} earlier "
        f"windows are mounted, bare through {scroll_count} messages mounted from the start:"
    )
    print(f"{'':9}{'presses':>8}{'mounted':>8}{'wall s':>8}{'stall p95':>11}{'stall max':>11}{'gc total':>10}{'gc max':>9}")
    for label, s in (("bare", bare_scroll), ("tuichat", scroll)):
        print(
            f"{label:9}{s.presses:8}{s.mounted:8}{s.seconds:8.2f}"
            f"{s.stall_p95 * 1000:9.1f}ms{s.stall_max * 1000:9.1f}ms"
            f"{s.gc_total * 1000:8.0f}ms{s.gc_max * 1000:7.0f}ms"
        )
    print(f"{'target':9}{'':24}{TARGET_STALL_P95 * 1000:9.1f}ms{TARGET_STALL_MAX * 1000:9.1f}ms")

    print(
        f"\ntuichat vs targets: open {check(statistics.median(opens) <= TARGET_OPEN)}, "
        f"scroll stalls p95 {check(scroll.stall_p95 <= TARGET_STALL_P95)}, max {check(scroll.stall_max <= TARGET_STALL_MAX)}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=1000, help="user/assistant pairs in the chat (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="timed opens of the chat (default 5)")
    parser.add_argument("--windows", type=int, default=3, help="earlier windows to mount while scrolling (default 3)")
    options = parser.parse_args()
    asyncio.run(main(options.pairs, options.runs, options.windows))
