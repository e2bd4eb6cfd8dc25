"""Start-up time of the TUI, process start to first frame: `python bench/tui_startup.py`.

Each run is a fresh `sys.executable -c <script>` process started with `Popen`; the
parent notes `time.time()` just before `Popen`, and the child prints `time.time()` when
its first screen has been painted, so the figure covers interpreter start-up, imports,
opening the store and the first layout and render. Both apps run headless at 100x30:

- bare:    a Textual app with Header, Markdown and Footer (the baseline: what any
           Textual app costs here); its first frame is the first refresh after `Ready`;
- tuichat: `TuichatApp(db)` on a store holding 50 pipes (the 5 seeded examples plus
           45 copies of a small pipe added with `FunctionLibrary.add`) and a few chats;
           its first frame is the first refresh after the chat screen's `on_mount` has
           finished (chat list filled, prompt focused).

The two are interleaved (bare, tuichat, bare, ...) after one untimed warm-up run each,
and printed as medians of N runs, split into: interpreter start (Popen to the first line
of the script), imports (the app's modules), and app (App.run to the first frame).

At the first frame the child also looks in `sys.modules` for modules that have no
business loading before it (the pipe runtime, pydantic, pip, the pipes themselves), and
the table shows in how many runs each one was there, so a regression is visible.

Target: tuichat's median within 0.15 s of the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_GAP = 0.15  # seconds tuichat may take beyond the bare app
SIZE = (100, 30)
EXTRA_PIPES = 45  # plus the 5 seeded examples = 50 stored pipes
CHATS = 5
RUN_TIMEOUT = 60.0

# Modules that should not be imported before the first frame, as (label, test on a name).
HEAVY = [
    "pydantic",
    "tuichat.runtime.loading.loader",
    "tuichat.runtime.loading.requirements",
    "pip",
    "textual.widgets._text_area",
    "function_*",
]

SMALL_PIPE = '''"""
title: Bench pipe {n}
author: bench
version: 0.1.0
description: A small pipe with valves, as a typical shared function looks.
"""

from pydantic import BaseModel, Field


class Pipe:
    class Valves(BaseModel):
        PREFIX: str = Field(default="", description="Put before the reply.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body: dict) -> str:
        messages = body.get("messages") or [{{"content": ""}}]
        return self.valves.PREFIX + str(messages[-1].get("content", ""))
'''

# What the child prints once the app has exited: its timestamps and the heavy modules.
CHILD_REPORT = """
def heavy_modules():
    found = []
    for name in HEAVY:
        if name.endswith("*"):
            if any(m.startswith(name[:-1]) for m in sys.modules):
                found.append(name)
        elif name in sys.modules:
            found.append(name)
    return found

def first_frame():
    global T_FRAME, MODULES
    if T_FRAME is None:
        T_FRAME = time.time()
        MODULES = heavy_modules()
        APP.exit()
"""

BARE_CHILD = """
import sys, time
T_START = time.time()
import json
from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Markdown
T_IMPORTED = time.time()
HEAVY = {heavy!r}
T_FRAME = MODULES = None
{report}

TEXT = '''# Hello

A *minimal* Textual app: a header, some **Markdown** and a footer.

- one
- two

```python
print("hello")
```
'''

class Bare(App):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Markdown(TEXT)
        yield Footer()

    def on_ready(self) -> None:
        self.call_after_refresh(first_frame)

APP = Bare()
T_RUN = time.time()
APP.run(headless=True, size={size!r})
print(json.dumps(dict(start=T_START, imported=T_IMPORTED, run=T_RUN, frame=T_FRAME, modules=MODULES)))
"""

TUICHAT_CHILD = """
import sys, time
T_START = time.time()
import json
from pathlib import Path
import tuichat.ui.app as app_module
from tuichat.ui.chat_screen import ChatScreen
T_IMPORTED = time.time()
HEAVY = {heavy!r}
T_FRAME = MODULES = None
{report}

class FirstFrameChatScreen(ChatScreen):
    def on_mount(self) -> None:
        # Runs before ChatScreen.on_mount (handlers are called down the MRO); the
        # callback is queued behind the Mount event, so it runs once that on_mount
        # has finished, and then waits for the next refresh: the chat screen painted.
        self.call_later(self.call_after_refresh, first_frame)

app_module.ChatScreen = FirstFrameChatScreen
APP = app_module.TuichatApp(Path(sys.argv[1]))
T_RUN = time.time()
APP.run(headless=True, size={size!r})
print(json.dumps(dict(start=T_START, imported=T_IMPORTED, run=T_RUN, frame=T_FRAME, modules=MODULES)))
"""


async def make_db(path: Path, extra_pipes: int, chats: int) -> tuple[int, int]:
    """A store like a real user's: the seeded examples, many more pipes, a few chats."""
    from tuichat.runtime.host import PipeHost
    from tuichat.runtime.library import FunctionLibrary
    from tuichat.store import Store

    store = await Store.open(path)
    try:
        library = FunctionLibrary(PipeHost(store))
        await library.seed_examples()
        for n in range(extra_pipes):
            await library.add(SMALL_PIPE.format(n=n), function_id=f"bench_pipe_{n:02d}")
        for n in range(chats):
            chat = await store.chats.create(f"Bench chat {n}", model_id="echo")
            for turn in range(3):
                await store.chats.add_message(chat.id, "user", f"Question {turn} of chat {n}?")
                await store.chats.add_message(chat.id, "assistant", f"Answer **{turn}**.", model_id="echo")
        pipes = len(await store.functions.list(type="pipe"))
        return pipes, len(await store.chats.list())
    finally:
        await store.close()


def run_child(script: str, args: list[str]) -> dict[str, object]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    for name in ("TEXTUAL_SCREENSHOT", "TEXTUAL", "TEXTUAL_DEVTOOLS_PORT"):
        env.pop(name, None)
    before = time.time()
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        out, err = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise SystemExit(f"child did not finish in {RUN_TIMEOUT:g} s\n{err}")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise SystemExit(f"child failed (exit {process.returncode}):\n{out}\n{err}")
    result = json.loads(lines[-1])
    if result["frame"] is None:
        raise SystemExit(f"child exited without a first frame:\n{out}\n{err}")
    return {
        "total": result["frame"] - before,
        "python": result["start"] - before,
        "imports": result["imported"] - result["start"],
        "app": result["frame"] - result["run"],
        "modules": result["modules"],
    }


def main(runs: int, extra_pipes: int, chats: int) -> None:
    scripts = {
        "bare": BARE_CHILD.format(heavy=HEAVY, report=CHILD_REPORT, size=SIZE),
        "tuichat": TUICHAT_CHILD.format(heavy=HEAVY, report=CHILD_REPORT, size=SIZE),
    }
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        pipes, chat_count = asyncio.run(make_db(db, extra_pipes, chats))
        args = {"bare": [], "tuichat": [str(db)]}
        for label, script in scripts.items():  # warm-up: page cache, .pyc files, WAL
            run_child(script, args[label])
        results: dict[str, list[dict[str, object]]] = {label: [] for label in scripts}
        for _ in range(runs):
            for label, script in scripts.items():
                results[label].append(run_child(script, args[label]))

    print(
        f"process start to first frame, headless {SIZE[0]}x{SIZE[1]}, median of {runs} runs (interleaved); "
        f"tuichat store: {pipes} pipes, {chat_count} chats\n"
    )
    print(f"{'app':8} {'median s':>9} {'min s':>7} {'max s':>7}   {'python':>7} {'imports':>8} {'app':>7}")
    medians: dict[str, float] = {}
    for label, rows in results.items():
        totals = [float(r["total"]) for r in rows]  # type: ignore[arg-type]
        medians[label] = statistics.median(totals)
        parts = {key: statistics.median(float(r[key]) for r in rows) for key in ("python", "imports", "app")}  # type: ignore[arg-type]
        print(
            f"{label:8} {medians[label]:9.3f} {min(totals):7.3f} {max(totals):7.3f}   "
            f"{parts['python']:7.3f} {parts['imports']:8.3f} {parts['app']:7.3f}"
        )
    gap = medians["tuichat"] - medians["bare"]
    verdict = "met" if gap <= TARGET_GAP else "MISSED"
    print(f"\ntuichat - bare: {gap:+.3f} s   (target <= {TARGET_GAP:.2f} s: {verdict})")

    print("\nheavy modules imported at the first frame (runs that had it, of", runs, "):")
    print(f"{'module':30} {'bare':>6} {'tuichat':>8}")
    for name in HEAVY:
        counts = [sum(name in r["modules"] for r in results[label]) for label in ("bare", "tuichat")]  # type: ignore[operator]
        print(f"{name:30} {counts[0]:>6} {counts[1]:>8}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each app (default 7)")
    parser.add_argument("--pipes", type=int, default=EXTRA_PIPES, help="small pipes added to the 5 examples (default 45)")
    parser.add_argument("--chats", type=int, default=CHATS, help="stored chats (default 5)")
    options = parser.parse_args()
    main(options.runs, options.pipes, options.chats)
