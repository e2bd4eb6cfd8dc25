"""Floods from a pipe, through the real processes: `python bench/floods.py`.

Pipes that flood the app: a 50 MB reply yielded in 1 KB chunks (`flood_chunks`), one returned as a
single 50 MB string (`flood_single`), 100,000 status events (`flood_events`) and 100,000 log lines
(`flood_logs`). Each goes through

- cli: `tuichat run MODEL go > /dev/null`, a process of its own;
- tui: the app (`TuichatApp`, headless `run_test` at 100x30, in a process of its own): pick the
  model, send, and while the reply streams type a key into the prompt every 0.2 s.

Printed for each: wall time (send to reply finished and saved), peak RSS of the app process
and of the pipe host process (VmHWM, read from /proc every 20 ms), and for the TUI the
event loop's worst stall (how late a 10 ms heartbeat woke: max and p95) and the key echo lag
(from a key sent as the terminal driver sends it to the prompt having it: max and median).

`--before DIR` runs every case on another source tree too, in the same run (e.g. main:
`git archive main | tar -x -C /tmp/before`), so the figures compare under the same load.
The load average is printed before and after.
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
import textwrap
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SAMPLE = 0.02  # seconds between RSS samples
KEY_EVERY = 0.2  # seconds between keys typed while the reply streams
HEARTBEAT = 0.01

PIPES = {
    "flood_chunks": '''
        class Pipe:
            def pipe(self, body):
                piece = ("x" * 63 + "\\n") * 16  # 1 KB
                for _ in range(MB * 1024):
                    yield piece
    ''',
    "flood_single": '''
        class Pipe:
            def pipe(self, body):
                return ("y" * 63 + "\\n") * (MB * 1024 * 16)
    ''',
    "flood_events": '''
        class Pipe:
            async def pipe(self, body, __event_emitter__=None):
                for i in range(100_000):
                    await __event_emitter__({"type": "status", "data": {"description": f"step {i}", "done": False}})
                return "done"
    ''',
    "flood_logs": '''
        import logging
        log = logging.getLogger("flood")
        class Pipe:
            def pipe(self, body):
                for i in range(100_000):
                    log.warning("line %d", i)
                return "done"
    ''',
}


def write_pipes(folder: Path, mb: int) -> list[Path]:
    paths = []
    for name, body in PIPES.items():
        path = folder / f"{name}.py"
        path.write_text(f'"""\ntitle: {name}\n"""\nMB = {mb}\n' + textwrap.dedent(body), encoding="utf-8")
        paths.append(path)
    return paths


def env_for(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1", "TUICHAT_OFFLINE": "1"}


def tuichat(tree: Path, db: Path, *args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    code = "from tuichat.launch import main; main()"
    return subprocess.Popen([sys.executable, "-c", code, "--db", str(db), *args], env=env_for(tree), **kwargs)  # type: ignore[call-overload, no-any-return]


# -- RSS of a process and its children ---------------------------------------------------------
def _status(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Peaks:
    """Peak RSS of a process (the app) and of its children (the host), sampled until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid, self.app, self.host = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.app = max(self.app, _status(self.pid, "VmHWM"))
            for child in _children(self.pid):
                self.host = max(self.host, _status(child, "VmHWM"))
            time.sleep(SAMPLE)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def mb(size: int) -> str:
    return f"{size / 2**20:7.0f} MB"


# -- the cases --------------------------------------------------------------------------------
def run_cli(tree: Path, db: Path, model: str) -> dict[str, object]:
    started = time.monotonic()
    with open(os.devnull, "wb") as null:
        process = tuichat(tree, db, "run", model, "go", stdout=null, stderr=subprocess.PIPE)
        peaks = Peaks(process.pid)
        _, err = process.communicate()
    peaks.stop()
    result: dict[str, object] = {"time": time.monotonic() - started, "app": peaks.app, "host": peaks.host}
    if process.returncode:
        result["error"] = err.decode(errors="replace").strip().splitlines()[-1:]
    return result


def run_tui(tree: Path, db: Path, model: str) -> dict[str, object]:
    child = tuichat_child(tree, db, model)
    peaks = Peaks(child.pid)
    out, err = child.communicate()
    peaks.stop()
    try:
        result: dict[str, object] = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        result = {"error": err.decode(errors="replace").strip().splitlines()[-3:]}
    result.update(app=peaks.app, host=peaks.host)
    return result


def tuichat_child(tree: Path, db: Path, model: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, __file__, "--tui-child", str(db), model]
    return subprocess.Popen(args, env=env_for(tree), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


async def tui_child(db: Path, model: str) -> dict[str, object]:
    """In the child: the app, one flood, keys typed while it streams; the figures as JSON."""
    from textual import events

    from tests.ui.helpers import pick, ready, until  # the tree under test's own helpers
    from tuichat.ui.app import TuichatApp
    from tuichat.ui.widgets.prompt import Prompt

    app = TuichatApp(db)
    lates: list[float] = []
    lags: list[float] = []
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        await pick(pilot, model)
        prompt = screen.query_one(Prompt)

        async def heartbeat() -> None:
            loop = asyncio.get_running_loop()
            while True:
                before = loop.time()
                await asyncio.sleep(HEARTBEAT)
                lates.append(loop.time() - before - HEARTBEAT)

        await pilot.press(*"go")
        started = time.monotonic()
        await pilot.press("enter")
        beat = asyncio.create_task(heartbeat())
        await until(pilot, lambda: screen.streaming, timeout=60)
        while screen.streaming:
            typed = len(prompt.text)
            posted = time.monotonic()
            key = events.Key("a", "a")  # as a terminal's driver sends it (not waiting, as pilot.press does)
            key.set_sender(app)
            app._driver.send_message(key)  # type: ignore[union-attr]
            await until(pilot, lambda: len(prompt.text) > typed or not screen.streaming, timeout=600)
            lags.append(time.monotonic() - posted)
            await asyncio.sleep(KEY_EVERY)
        elapsed = time.monotonic() - started
        beat.cancel()
        shown = len(screen.query("ReplyView").last().shown_text)
    return {
        "time": elapsed,
        "stall_max": max(lates, default=0.0),
        "stall_p95": statistics.quantiles(lates, n=20)[-1] if len(lates) > 20 else max(lates, default=0.0),
        "lag_max": max(lags, default=0.0),
        "lag_median": statistics.median(lags) if lags else 0.0,
        "shown": shown,
    }


def line(tree_name: str, mode: str, model: str, result: dict[str, object]) -> str:
    text = f"{tree_name:7} {mode:4} {model:12} {result.get('time', 0.0):7.1f} s  app {mb(int(result.get('app', 0)))}  host {mb(int(result.get('host', 0)))}"  # type: ignore[arg-type]
    if "stall_max" in result:
        text += (
            f"  stall max {result['stall_max']:.2f} s p95 {result['stall_p95'] * 1000:.0f} ms"
            f"  key lag max {result['lag_max']:.2f} s median {result['lag_median'] * 1000:.0f} ms"
            f"  shown {int(result['shown']) / 1e6:.1f} M chars"  # type: ignore[call-overload]
        )
    if "error" in result:
        text += f"  FAILED: {result['error']}"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=50, help="size of the flooding replies (default 50)")
    parser.add_argument("--before", type=Path, help="another source tree to run every case on too")
    parser.add_argument("--modes", default="cli,tui", help="cli, tui or both (default)")
    parser.add_argument("--models", default=",".join(PIPES), help=f"which floods (default {','.join(PIPES)})")
    parser.add_argument("--tui-child", nargs=2, metavar=("DB", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tui_child:
        sys.path.insert(0, os.environ.get("PYTHONPATH", str(HERE)))
        print(json.dumps(asyncio.run(tui_child(Path(args.tui_child[0]), args.tui_child[1]))))
        return
    trees = [("after", HERE)] + ([("before", args.before.resolve())] if args.before else [])
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as folder:
        pipes = write_pipes(Path(folder), args.mb)
        for name, tree in trees:
            db = Path(folder) / f"{name}.db"
            for path in pipes:
                added = tuichat(tree, db, "pipes", "add", str(path), stdout=subprocess.DEVNULL)
                added.wait()
        for mode in args.modes.split(","):
            for model in args.models.split(","):
                for name, tree in trees:
                    db = Path(folder) / f"{name}.db"
                    result = (run_cli if mode == "cli" else run_tui)(tree, db, model)
                    print(line(name, mode, model, result), flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
