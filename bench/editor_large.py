"""The pipe editor on large sources: `python bench/editor_large.py [--sizes 2K,1M,5M,9M --runs 3 --keys 5]`.

For each size, a pipe source of that many bytes (a working `Pipe` followed by lines of data, as
big generated pipes are) is stored, and the real app is run headless at 100x30 (Pilot):

- open:   from pushing the editor on the function until its text is editable and painted, or
          until it has said it will not open it (a source over the editor's limit);
- key:    one printable key typed at the end of the text, from the key event being posted until
          the end of the first screen paint that shows it, `--keys` times per run (the screen
          paints at most 60 times a second, so the floor is a few ms up to ~17 ms).

It prints the median (and max) of `--runs` runs for each size, and what the editor did (opened,
or refused with its message), and the load average before and after: the figures are only
comparable with others taken on an idle machine. 2K is a small pipe, the baseline the others are
read against; 9M is over the editor's limit, so it shows the time to refuse. Figures, not tests:
the test suite only checks the behaviour.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEAD = '''"""
title: Big Pipe
"""


class Pipe:
    def pipe(self, body: dict) -> str:
        return "big"


'''


def make_source(size: int) -> str:
    """A valid pipe source of about `size` bytes: the pipe, then data lines of 100 bytes."""
    lines = [HEAD]
    total, number = len(HEAD), 0
    while total < size:
        line = f"DATA_{number:07d} = {'x' * 70!r}  # generated\n"
        line = line[:99].ljust(99) + "\n"
        lines.append(line)
        total += len(line)
        number += 1
    return "".join(lines)


def parse_size(text: str) -> int:
    text = text.strip().upper()
    factor = {"K": 1024, "M": 1024 * 1024}.get(text[-1:], 1)  # as the editor counts sizes (describe_size)
    return int(float(text.rstrip("KM")) * factor)


async def measure(size: int, keys: int) -> tuple[float, list[float], str]:
    """(open seconds, key latencies, what happened) for one run on a fresh store."""
    from textual import events

    from tuichat.store import Store
    from tuichat.ui.app import TuichatApp
    from tuichat.ui.chat.screen import ChatScreen
    from tuichat.ui.workshop.editor_screen import EditorScreen

    source = make_source(size)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        async with await Store.open(db) as store:
            await store.functions.insert("big", name="Big Pipe", type="pipe", content=source)
        app = TuichatApp(db)
        async with app.run_test(size=(100, 30)) as pilot:
            while not isinstance(app.screen, ChatScreen):
                await pilot.pause(0.02)
            await app.runtime()
            await pilot.pause(0.2)
            editor = EditorScreen("big")
            started = time.perf_counter()
            await app.push_screen(editor)
            while not (editor.row is not None and not editor.editor.read_only) and editor.is_attached:
                await pilot.pause(0.01)
            await pilot.pause()
            opened = time.perf_counter() - started
            if not editor.is_attached or editor.editor.read_only:
                notes = [str(n.message) for n in app._notifications]
                return opened, [], "refused: " + (notes[-1] if notes else "(no message)")
            code = editor.editor
            code.move_cursor(code.document.end)
            await pilot.pause()
            # Each paint of the screen, with the length of the last line it showed.
            painted: list[tuple[float, int]] = []
            paint = editor._compositor_refresh

            def recorded() -> None:
                paint()
                painted.append((time.perf_counter(), len(code.document.lines[-1])))

            editor._compositor_refresh = recorded  # type: ignore[method-assign]
            latencies = []
            for _ in range(keys):
                await pilot.pause(0.05)
                expected = len(code.document.lines[-1]) + 1
                started = time.perf_counter()
                app.post_message(events.Key("x", "x"))
                while not any(length == expected and when > started for when, length in painted):
                    await asyncio.sleep(0.001)
                shown = next(when for when, length in painted if length == expected and when > started)
                latencies.append(shown - started)
            assert editor.modified
            return opened, latencies, "opened"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2K,1M,5M,9M", help="source sizes, e.g. 2K,1M,5M,9M")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keys", type=int, default=5, help="keys typed per run")
    args = parser.parse_args()
    print("load average before: " + " ".join(f"{load:.2f}" for load in os.getloadavg()), flush=True)
    print(f"{'size':>6}  {'open median':>12}  {'open max':>9}  {'key median':>11}  {'key max':>8}  result")
    for text in args.sizes.split(","):
        size = parse_size(text)
        opens: list[float] = []
        keys: list[float] = []
        result = ""
        for _ in range(args.runs):
            opened, latencies, result = asyncio.run(measure(size, args.keys))
            opens.append(opened)
            keys += latencies
        key_median = f"{statistics.median(keys) * 1000:9.1f}ms" if keys else f"{'-':>11}"
        key_max = f"{max(keys) * 1000:6.1f}ms" if keys else f"{'-':>8}"
        print(
            f"{text:>6}  {statistics.median(opens) * 1000:10.1f}ms  {max(opens) * 1000:7.1f}ms  {key_median}  {key_max}  {result}",
            flush=True,
        )
    print("load average after:  " + " ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
