"""What a streaming reply's frames cost, counted: `python bench/tui_stream_frames.py [--every 2]`.

The reply of `bench/tui_stream.py` (12k chars, 20 fences, 4-char tokens) written into a
`ReplyView` every `--every` tokens (2: 30 writes a second at 60 tokens/s, what a 50 ms display
lag needs), each write followed by the frame that shows it, as fast as that goes. Prints how
many layouts, partial repaints and full-screen renders the stream cost and their CPU time.
The counts do not depend on the machine's load (the paced bench's figures do, a lot, on a
shared 2-core machine); the times do, less than wall times.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from textual._compositor import Compositor  # noqa: E402
from textual.screen import Screen  # noqa: E402
from tui_stream import BenchApp, make_reply, sse_steps  # noqa: E402

from tuichat.runtime.reply.builder import ReplyBuilder  # noqa: E402
from tuichat.ui.widgets.conversation import Conversation  # noqa: E402
from tuichat.ui.widgets.reply import ReplyView  # noqa: E402

SPENT: collections.Counter[str] = collections.Counter()
CALLS: collections.Counter[str] = collections.Counter()


def timed(owner: type, name: str, label: str) -> None:
    """Count the calls of `owner.name` and the CPU time they take."""
    original: Callable[..., object] = getattr(owner, name)

    def wrapper(*args: object, **kwargs: object) -> object:
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - started
            CALLS[label] += 1

    setattr(owner, name, wrapper)


async def run(every: int, sections: int) -> None:
    steps = sse_steps(make_reply(sections))
    ReplyView.MIN_INTERVAL = 1e9  # the write loop writes the first token only; this drives the rest
    app = BenchApp()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(Conversation)
        builder, view = ReplyBuilder(), ReplyView(streaming=True, model_name="bench")
        await log.add(view)
        log.anchor()
        await pilot.pause()
        SPENT.clear()
        CALLS.clear()
        started, writes = time.process_time(), 0
        for index in range(0, len(steps), every):
            for step in steps[index : index + every]:
                view.apply(builder.feed(step))
            await view._write()
            shown = asyncio.get_running_loop().create_future()
            view.call_after_refresh(lambda: shown.done() or shown.set_result(None))
            await shown
            writes += 1
        cpu = time.process_time() - started
    print(f"{len(steps):,} tokens, a write every {every}: {writes:,} writes, CPU {cpu:.2f} s "
          f"({1000 * cpu / writes:.1f} ms a write and its frame; load average {os.getloadavg()[0]:.1f})")
    for label in ("layout", "repaint", "full render"):
        print(f"  {label:12}{CALLS[label]:6,}  {SPENT[label]:6.2f} s  {1000 * SPENT[label] / max(CALLS[label], 1):5.1f} ms each")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--every", type=int, default=2, help="tokens a write")
    parser.add_argument("--sections", type=int, default=20)
    args = parser.parse_args()
    timed(Screen, "_refresh_layout", "layout")  # a layout, then its render (full or partial)
    timed(Screen, "_compositor_refresh", "repaint")  # every render, with or without a layout
    timed(Compositor, "render_full_update", "full render")
    asyncio.run(run(args.every, args.sections))


if __name__ == "__main__":
    main()
