"""A soak of the real app against misbehaving pipes: `python bench/soak.py [--minutes 30]`.

`tuichat` runs in tmux (a server and session of its own, 100x30) on a fresh database holding a
rotation of bad pipes: one that dies (`os._exit`), one that segfaults, one that hangs in a
blocking call (stopped with Esc, the host killed 2 s later), one that floods a few MB, one
that prints and logs thousands of lines, one that forks, one that emits 20,000 status events,
one that leaves a non-daemon thread running, and a good one. Every few seconds a message is
typed to the next pipe: the time until the typed text shows on the terminal is the echo lag
(the app's responsiveness). Every 20 messages a new chat is started, so what a chat's widgets
hold is freed and what grows is a leak. The RSS of the app and of its pipe host are sampled
after every message.

At the end ctrl+q must end the app within 10 s. Printed: the start RSS once taken, a line a
minute (messages, app and host RSS, worst echo lag), then start, end and max RSS, and PASS if
the app answered every key within 10 s, quit in time, stored (at least 90% of) the messages
sent with a reply each (an app that took messages but never answered them would look flat),
and its RSS at the end is within 25% (or 40 MB) of the start; else FAIL with why. Each sample is taken just after a message is sent, so
what it holds depends on the pipe: start and end are medians over two rotations (the second
and third, once caches are warm, and the last two).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

SIZE = (100, 30)
ECHO_LIMIT = 10.0  # seconds: a key not shown in this long means the app is not responsive
QUIT_LIMIT = 10.0
NEW_CHAT_EVERY = 20

PIPES = {
    "soak_dies": """
        import os, time
        class Pipe:
            def pipe(self, body):
                yield "about to exit "
                time.sleep(0.1)
                os._exit(3)
    """,
    "soak_segfault": """
        import ctypes
        class Pipe:
            def pipe(self, body):
                yield "about to crash "
                ctypes.string_at(0)
    """,
    "soak_hangs": """
        import time
        class Pipe:
            async def pipe(self, body):
                yield "hanging "
                time.sleep(3600)
    """,
    "soak_floods": """
        class Pipe:
            def pipe(self, body):
                piece = ("flood " * 10 + "\\n") * 16
                for _ in range(MB * 1024 * 1024 // len(piece)):
                    yield piece
    """,
    "soak_prints": """
        import logging, sys
        class Pipe:
            def pipe(self, body):
                for i in range(5000):
                    print("print", i)
                    logging.getLogger("soak").warning("log %d", i)
                sys.stdout.buffer.write(bytes(range(256)))
                return "printed"
    """,
    "soak_forks": """
        import os
        class Pipe:
            def pipe(self, body):
                pid = os.fork()
                if pid == 0:
                    print("child")
                    os._exit(0)
                os.waitpid(pid, 0)
                return "forked"
    """,
    "soak_events": """
        class Pipe:
            async def pipe(self, body, __event_emitter__=None):
                for i in range(20_000):
                    await __event_emitter__({"type": "status", "data": {"description": f"step {i}", "done": False}})
                return "evented"
    """,
    "soak_thread": """
        import threading, time
        class Pipe:
            def pipe(self, body):
                threading.Thread(target=time.sleep, args=(3600,)).start()
                return "threaded"
    """,
    "soak_good": """
        class Pipe:
            def pipe(self, body):
                return "fine " * 50
    """,
}
HANGS = {"soak_hangs"}


class Tmux:
    def __init__(self) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            sys.exit("tmux is not installed (apt-get install tmux)")
        self.tmux = tmux
        self.socket = f"floods-soak-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    def run(self, *args: str) -> str:
        done = subprocess.run([self.tmux, "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return done.stdout

    def start(self, command: str) -> None:
        width, height = SIZE
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "soak", "-x", str(width), "-y", str(height), "cat")
        self.run("set-option", "-g", "window-size", "manual")
        self.run("set-option", "-g", "remain-on-exit", "on")
        self.run("resize-window", "-t", "soak", "-x", str(width), "-y", str(height))
        self.run("respawn-pane", "-k", "-t", "soak", command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "soak")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "soak", *(["-l"] if literal else []), *keys)

    def pane_pid(self) -> int:
        return int(self.run("display-message", "-p", "-t", "soak", "#{pane_pid}").strip())

    def wait(self, condition: Callable[[str], bool], timeout: float) -> float | None:
        """Seconds until `condition(screen)` held, or None if it never did in `timeout`."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if condition(self.screen()):
                return time.monotonic() - started
            time.sleep(0.05)
        return None

    def kill(self) -> None:
        self.run("kill-server")


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def rss(pid: int | None) -> int:
    if pid is None:
        return 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def mb(size: int) -> str:
    return f"{size / 2**20:.0f} MB"


def streaming(screen: str) -> bool:
    """The footer offers Esc (Stop) only while a reply streams."""
    return any("Stop" in line and "esc" in line.lower() for line in screen.splitlines()[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument("--every", type=float, default=4.0, help="seconds between messages (default 4)")
    parser.add_argument("--flood-mb", type=int, default=5, help="size of the flooding reply (default 5)")
    args = parser.parse_args()
    tuichat = shutil.which("tuichat", path=str(Path(sys.executable).parent)) or shutil.which("tuichat")
    if tuichat is None:
        sys.exit("the tuichat console script is not installed: pip install -e .")
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    db = folder / "soak.db"
    for name, body in PIPES.items():
        path = folder / f"{name}.py"
        path.write_text(f'"""\ntitle: {name}\n"""\nMB = {args.flood_mb}\n' + textwrap.dedent(body), encoding="utf-8")
        subprocess.run([tuichat, "--db", str(db), "--offline", "pipes", "add", str(path)], check=True, capture_output=True)
    tmux = Tmux()
    exit_file = folder / "exit-status"
    command = (
        f"env -u COLUMNS -u LINES TERM=xterm-256color TEXTUAL_ANIMATIONS=none {shlex.quote(tuichat)} --db {shlex.quote(str(db))}"
        f"; echo $? > {shlex.quote(str(exit_file))}"
    )
    failures: list[str] = []
    samples: list[tuple[float, int, int]] = []
    lags: list[float] = []
    try:
        tmux.start(command)
        if tmux.wait(lambda s: "Enter sends" in s and "no model" not in s, 60) is None:
            sys.exit(f"the app never listed its models; the screen:\n{tmux.screen()}")
        app = next(iter(children(tmux.pane_pid())), None)
        started = time.monotonic()
        last_print = started
        rotation = list(PIPES)
        count = 0
        print(f"soak: {args.minutes:g} min, a message every {args.every:g} s, app pid {app}, tmux -L {tmux.socket}", flush=True)
        while time.monotonic() - started < args.minutes * 60:
            model = rotation[count % len(rotation)]
            count += 1
            round_started = time.monotonic()
            if tmux.wait(lambda s: not streaming(s), 60) is None:
                tmux.keys("Escape")
                tmux.keys("Escape")
                if tmux.wait(lambda s: not streaming(s), 30) is None:
                    failures.append(f"message {count}: a reply never ended, even after Esc twice")
                    break
            if count % NEW_CHAT_EVERY == 0:
                tmux.keys("C-n")
                time.sleep(0.3)
            tmux.keys("C-o")
            if tmux.wait(lambda s: "Select a model" in s, ECHO_LIMIT) is None:
                failures.append(f"message {count}: the model picker did not open within {ECHO_LIMIT:g} s")
                break
            tmux.keys(model, literal=True)
            tmux.wait(lambda s: model in s, ECHO_LIMIT)
            tmux.keys("Enter")
            tmux.wait(lambda s: "Select a model" not in s, ECHO_LIMIT)
            token = f"soak {count} {uuid.uuid4().hex[:6]}"
            tmux.keys(token, literal=True)
            lag = tmux.wait(lambda s: token in s, ECHO_LIMIT)
            if lag is None:
                failures.append(f"message {count} ({model}): typing did not show within {ECHO_LIMIT:g} s")
                late = tmux.wait(lambda s: token in s, 60)  # slow, or stuck?
                failures.append(
                    f"  it showed {ECHO_LIMIT + late:.1f} s after it was typed" if late is not None else "  nor in a minute more"
                )
                failures.append("  the screen then:\n" + tmux.screen())
                break
            lags.append(lag)
            tmux.keys("Enter")
            if model in HANGS:
                time.sleep(1.0)
                tmux.keys("Escape")
            host = next(iter(children(app)), None) if app is not None else None
            samples.append((time.monotonic() - started, rss(app), rss(host)))
            if len(samples) == 3 * len(PIPES):  # the start the report measures growth from
                start = samples[len(PIPES) :]
                print(
                    f"start (median of rotations 2-3): app {mb(_median(x[1] for x in start))}"
                    f"  host {mb(_median(x[2] for x in start))}",
                    flush=True,
                )
            if time.monotonic() - last_print >= 60:
                minute = [s for s in samples if s[0] >= last_print - started]
                minute_lags = lags[-len(minute) :]
                last_print = time.monotonic()
                apps = sorted(s[1] for s in minute)
                print(
                    f"{(last_print - started) / 60:5.1f} min  {count:4} messages  app {mb(apps[0])} / {mb(_median(apps))}"
                    f" / {mb(apps[-1])} (min/median/max this minute)  host {mb(samples[-1][2])}"
                    f"  echo lag max {max(minute_lags):.2f} s this minute, {max(lags):.2f} s so far",
                    flush=True,
                )
            time.sleep(max(0.0, round_started + args.every - time.monotonic()))
        tmux.wait(lambda s: not streaming(s), 60)
        quit_at = time.monotonic()
        tmux.keys("C-q")
        while not exit_file.exists() and time.monotonic() - quit_at < QUIT_LIMIT:
            time.sleep(0.05)
        if not exit_file.exists():
            failures.append(f"ctrl+q did not end the app within {QUIT_LIMIT:g} s")
        else:
            print(f"quit in {time.monotonic() - quit_at:.2f} s, exit status {exit_file.read_text().strip()}")
    finally:
        tmux.kill()
    sent = len(samples)
    stored, answered = asyncio.run(_stored(db))
    print(f"stored: {stored} of the {sent} messages sent, {answered} with a reply")
    if stored < sent * 0.9 or answered < stored * 0.9:
        # A message typed, Enter pressed and the prompt cleared, yet never stored: the app took
        # it but never answered (a wedged pipe host), so later RSS samples measure an idle app.
        failures.append(f"only {stored} of {sent} messages were stored ({answered} answered)")
    report(samples, lags, failures)
    shutil.rmtree(folder, ignore_errors=True)


async def _stored(db: Path) -> tuple[int, int]:
    """How many user messages the store holds, and how many of them have a reply."""
    from tuichat.store import Store

    async with await Store.open(db) as store:
        users = replies = 0
        for chat in await store.chats.list():
            messages = await store.chats.messages(chat.id)
            users += sum(m.role == "user" for m in messages)
            replies += sum(m.role == "assistant" for m in messages)
        return users, replies


def report(samples: list[tuple[float, int, int]], lags: list[float], failures: list[str]) -> None:
    if not samples:
        print("FAIL: no samples", *failures, sep="\n")
        sys.exit(1)
    # One sample per message, each taken just after it was sent: what the app holds then depends
    # on the pipe (a flood streaming adds 100 MB for a while). So start and end are medians over
    # two whole rotations: the second and third (caches warm), and the last two.
    rotation = len(PIPES)
    first = samples[rotation : 3 * rotation] or samples
    last = samples[-2 * rotation :]
    top = max(samples, key=lambda s: s[1])
    start_app, end_app = _median(s[1] for s in first), _median(s[1] for s in last)
    print(f"messages: {len(samples)}; echo lag median {sorted(lags)[len(lags) // 2]:.2f} s, max {max(lags):.2f} s")
    print(
        f"app RSS: start {mb(start_app)}, end {mb(end_app)} (medians over two rotations), max {mb(top[1])};"
        f" single samples: first {mb(samples[0][1])}, after one rotation {mb(first[0][1])}, last {mb(samples[-1][1])}"
    )
    print(
        f"host RSS: start {mb(_median(s[2] for s in first))}, end {mb(_median(s[2] for s in last))},"
        f" max {mb(max(s[2] for s in samples))}"
    )
    print(f"load average: {os.getloadavg()}")
    if end_app > max(start_app * 1.25, start_app + 40 * 2**20):
        failures.append(f"the app's RSS grew from {mb(start_app)} to {mb(end_app)}")
    if failures:
        print("FAIL:", *failures, sep="\n  ")
        sys.exit(1)
    print("PASS")


def _median(values: Iterable[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else 0


if __name__ == "__main__":
    main()
