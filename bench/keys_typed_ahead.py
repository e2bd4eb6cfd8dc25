"""How long keys typed in one burst take to reach the prompt, with the key gate (each key
waits until the one before it has been handled) and without it (Textual's own forwarding).

    python bench/keys_typed_ahead.py [--keys 60] [--runs 5]

Prints the median and worst time from the burst's first key to the last one in the prompt,
for each way, and the load average. Headless, 100x30, the chat screen of a fresh store."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from textual import events

from tuichat.ui.app import TuichatApp
from tuichat.ui.widgets.prompt import Prompt


async def one_run(db: Path, keys: int, gate: bool) -> float:
    app = TuichatApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        while not any(type(s).__name__ == "ChatScreen" for s in app.screen_stack):
            await pilot.pause(0.05)
        await pilot.pause(0.5)
        if not gate:
            app.keys.hold = lambda event: False  # type: ignore[method-assign]
        prompt = app.screen.query_one(Prompt)
        text = ("abcdefghij" * (keys // 10 + 1))[:keys]
        start = time.perf_counter()
        for char in text:
            event = events.Key(char, char)
            event.set_sender(app)
            app._driver.send_message(event)  # type: ignore[union-attr]
        while prompt.text != text:
            await asyncio.sleep(0.001)
        return time.perf_counter() - start


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for gate in (False, True):
            times = [await one_run(Path(tmp) / f"{gate}-{n}.db", args.keys, gate) for n in range(args.runs)]
            name = "gate" if gate else "no gate"
            print(f"{name:8} {args.keys} keys in one burst: median {statistics.median(times) * 1000:.0f} ms, "
                  f"worst {max(times) * 1000:.0f} ms ({args.runs} runs)")
    print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    asyncio.run(main())
