"""Start-up time of the TUI as users run it, process start to first frame: `python bench/tui_startup.py`.

Headline (pty): the installed `tuichat` console script is started as a user starts it, in a
pseudo-terminal of 100x30 (`TIOCSWINSZ`, `TERM=xterm-256color`), on a store holding 50 pipes
(the 5 seeded examples plus 45 copies of a small pipe with valves) and 5 chats:

- bare:    `python <script>` of a Textual app with Header, Markdown and Footer (the baseline:
           what any Textual app costs here);
- tuichat: `tuichat --db <store>` (the console script, so the launcher, the argument parser
           and everything they import are in the figure).

The parent notes `time.perf_counter()` just before `Popen` and reads the terminal until the
first full frame has been painted. The marker: Textual paints a frame top to bottom, and a pty
that answers no queries gets no synchronized output, so a frame arrives in several writes; the
Footer fills in its key labels once the screen's bindings are known, so the bottom row's
`palette` label (the command-palette key, in both apps' footers) is the last thing of the
first complete screen. Each app also has a content marker that proves the screen is the real
one: the bare app's `Hello` heading, and tuichat's newest stored chat title in the chat list
(the store has been read). The figure is when the last of the two markers was read, matched
after escape sequences are stripped. Then ctrl+q is typed, the process must exit (else it is
killed and reported), and its process group is checked to be empty.

Second figure (headless, in-process): the same apps as `sys.executable -c <script>` children
run with `App.run(headless=True)`; the child prints `time.time()` at its first refresh after
the chat screen's `on_mount` (the bare app's `on_ready`), split into interpreter start, imports
and app, and it looks in `sys.modules` then for modules that have no business loading before
the first frame (the pipe runtime, pydantic, pip, the CLI's commands, `function_*` pipes); the
table shows in how many runs each one was there, so a regression is visible. `--no-headless`
skips it.

Variants are interleaved (bare, tuichat, ..., bare, tuichat, ...) after one untimed warm-up
run each, and printed as median/min/max of N runs, with the load average before and after.
`--extra LABEL=COMMAND` times another command line the same way as tuichat (`{db}` is the
store), e.g. an older checkout's console script, to compare in the same run.

Target: tuichat's median (pty) within 0.15 s of the bare app's.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import pty
import re
import select
import shlex
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_GAP = 0.15  # seconds tuichat may take beyond the bare app
SIZE = (100, 30)
EXTRA_PIPES = 45  # plus the 5 seeded examples = 50 stored pipes
CHATS = 5
RUN_TIMEOUT = 60.0  # first frame (pty) or whole run (headless)
QUIT_TIMEOUT = 10.0
FOOTER_MARKER = "palette"  # the Footer's command-palette key label, bottom row, in both apps
BARE_MARKER = "Hello"  # the bare app's heading
CTRL_Q = b"\x11"
ESCAPES = re.compile(rb"\x1b(?:\[[0-9;?<=>$ ]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78DEHMc])")

# Modules that should not be imported before the first frame (headless variant).
HEAVY = [
    "pydantic",
    "tuichat.cli.commands",
    "tuichat.runtime.host",
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

BARE_APP = """
from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Markdown

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
"""

BARE_SCRIPT = BARE_APP + """

if __name__ == "__main__":
    Bare().run()
"""

# -- the headless, in-process variant ------------------------------------------------------
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
{app}
T_IMPORTED = time.time()
HEAVY = {heavy!r}
T_FRAME = MODULES = None
{report}

class FirstFrameBare(Bare):
    def on_ready(self) -> None:
        self.call_after_refresh(first_frame)

APP = FirstFrameBare()
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
import tuichat.ui.chat.screen as chat_screen_module
T_IMPORTED = time.time()
HEAVY = {heavy!r}
T_FRAME = MODULES = None
{report}

class FirstFrameChatScreen(chat_screen_module.ChatScreen):
    def on_mount(self) -> None:
        # Runs before ChatScreen.on_mount (handlers are called down the MRO); the
        # callback is queued behind the Mount event, so it runs once that on_mount
        # has finished, and then waits for the next refresh: the chat screen painted.
        self.call_later(self.call_after_refresh, first_frame)

# TuichatApp.on_mount imports ChatScreen from its module when it pushes the screen.
chat_screen_module.ChatScreen = FirstFrameChatScreen
APP = app_module.TuichatApp(Path(sys.argv[1]))
T_RUN = time.time()
APP.run(headless=True, size={size!r})
print(json.dumps(dict(start=T_START, imported=T_IMPORTED, run=T_RUN, frame=T_FRAME, modules=MODULES)))
"""


async def make_db(path: Path, extra_pipes: int, chats: int) -> tuple[int, int]:
    """A store like a real user's: the seeded examples, many more pipes, a few chats."""
    from tuichat.runtime.services import Services
    from tuichat.store import Store

    store = await Store.open(path)
    services = None
    try:
        services = await Services.start(store)
        library = services.library
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
        if services is not None:
            await services.close()  # the pipe host process the adds started
        await store.close()


def child_env() -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE is dropped: an installed app has its bytecode (pip compiles it, or
    # the first run writes it), so the untimed warm-up run leaves it as users have it; with the
    # variable set, every start compiled tuichat's UI modules from source (~0.1 s here).
    dropped = ("TUICHAT_DB", "COLUMNS", "LINES", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXTUAL") and k not in dropped}
    env["TERM"] = "xterm-256color"
    return env


# -- pty ----------------------------------------------------------------------------------
@dataclass
class PtyRun:
    total: float  # Popen to the last marker read
    exit_code: int | None
    cpu: float = 0.0  # the process's CPU seconds (user + system) when the last marker was read
    left_running: bool = False
    notes: list[str] = field(default_factory=list)


def _take_terminal() -> None:
    """In the child, after setsid: the pty becomes its controlling terminal, as in a shell."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_in_pty(argv: list[str], markers: list[str]) -> PtyRun:
    """Start `argv` in a fresh 100x30 pty; time to the last marker; quit with ctrl+q."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    wanted = [m.encode() for m in markers]
    seen: dict[bytes, float] = {}
    screen = b""
    before = time.perf_counter()
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=child_env(), close_fds=True,
        start_new_session=True, preexec_fn=_take_terminal,
    )
    os.close(slave)
    notes: list[str] = []
    try:
        while len(seen) < len(wanted):
            if time.perf_counter() - before > RUN_TIMEOUT:
                raise SystemExit(f"{argv[0]}: no first frame in {RUN_TIMEOUT:g} s; saw {sorted(m.decode() for m in seen)}\n"
                                 f"{ESCAPES.sub(b'', screen).decode(errors='replace')[-2000:]}")
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                if process.poll() is not None:
                    raise SystemExit(f"{argv[0]} exited ({process.returncode}) before its first frame:\n"
                                     f"{ESCAPES.sub(b'', screen).decode(errors='replace')[-2000:]}")
                continue
            chunk = _read(master)
            now = time.perf_counter()
            if not chunk:
                continue
            screen += chunk
            plain = ESCAPES.sub(b"", screen)
            for marker in wanted:
                if marker not in seen and marker in plain:
                    seen[marker] = now - before
        total = max(seen.values())
        cpu = _cpu_seconds(process.pid)
        os.write(master, CTRL_Q)
        deadline = time.perf_counter() + QUIT_TIMEOUT
        while process.poll() is None and time.perf_counter() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                _read(master)  # keep draining, or a full pty blocks the app's last writes
        if process.poll() is None:
            notes.append("did not quit on ctrl+q: killed")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        left = _group_alive(process.pid)
        if left:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
    return PtyRun(total, process.returncode, cpu, left, notes)


def _cpu_seconds(pid: int) -> float:
    """utime + stime from /proc: what the start cost in CPU, which a busy machine disturbs far
    less than the wall time (its waits for a core are not in it)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        return b""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


# -- headless ----------------------------------------------------------------------------
def run_headless(script: str, args: list[str]) -> dict[str, object]:
    env = child_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
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


# -- report ------------------------------------------------------------------------------
def console_script() -> str:
    path = Path(sys.executable).parent / "tuichat"
    if not path.exists():
        raise SystemExit(f"no console script at {path}: install tuichat in this environment (pip install -e .)")
    return str(path)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def summary(label: str, totals: list[float], width: int = 14) -> str:
    return f"{label:{width}} {statistics.median(totals):9.3f} {min(totals):7.3f} {max(totals):7.3f}"


def main(runs: int, extra_pipes: int, chats: int, extras: list[str], headless: bool) -> None:
    load_before = load()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        bare_script = Path(folder) / "bare_app.py"
        bare_script.write_text(BARE_SCRIPT)
        pipes, chat_count = asyncio.run(make_db(db, extra_pipes, chats))
        chat_marker = f"Bench chat {chats - 1}"  # the newest chat, first in the list
        pty_variants: dict[str, tuple[list[str], list[str]]] = {
            "bare": ([sys.executable, str(bare_script)], [BARE_MARKER, FOOTER_MARKER]),
            "tuichat": ([console_script(), "--db", str(db)], [chat_marker, FOOTER_MARKER]),
        }
        for extra in extras:
            label, _, command = extra.partition("=")
            pty_variants[label] = (shlex.split(command.replace("{db}", str(db))), [chat_marker, FOOTER_MARKER])
        scripts = {
            "bare": (BARE_CHILD.format(app=BARE_APP, heavy=HEAVY, report=CHILD_REPORT, size=SIZE), []),
            "tuichat": (TUICHAT_CHILD.format(heavy=HEAVY, report=CHILD_REPORT, size=SIZE), [str(db)]),
        } if headless else {}

        for argv, markers in pty_variants.values():  # warm-up: page cache, .pyc files, WAL
            run_in_pty(argv, markers)
        for script, args in scripts.values():
            run_headless(script, args)
        pty_results: dict[str, list[PtyRun]] = {label: [] for label in pty_variants}
        headless_results: dict[str, list[dict[str, object]]] = {label: [] for label in scripts}
        for _ in range(runs):
            for label, (argv, markers) in pty_variants.items():
                pty_results[label].append(run_in_pty(argv, markers))
            for label, (script, args) in scripts.items():
                headless_results[label].append(run_headless(script, args))
    load_after = load()

    print(f"process start to first frame in a {SIZE[0]}x{SIZE[1]} pty, {runs} runs each (interleaved); "
          f"store: {pipes} pipes, {chat_count} chats")
    print(f"load average (1, 5, 15 min): {load_before} before, {load_after} after, on {os.cpu_count()} cores\n")
    width = max(14, *(len(label) for label in pty_results))
    print(f"{'pty':{width}} {'median s':>9} {'min s':>7} {'max s':>7}   {'cpu s':>6}   exit codes")
    medians: dict[str, float] = {}
    cpus: dict[str, float] = {}
    for label, rows in pty_results.items():
        totals = [r.total for r in rows]
        medians[label] = statistics.median(totals)
        cpus[label] = statistics.median(r.cpu for r in rows)
        codes = sorted({str(r.exit_code) for r in rows})
        print(f"{summary(label, totals, width)}   {cpus[label]:6.2f}   {','.join(codes)}")
    for label in medians:
        if label == "bare":
            continue
        gap = medians[label] - medians["bare"]
        verdict = "met" if gap <= TARGET_GAP else "MISSED"
        print(f"{label} - bare: {gap:+.3f} s   (target <= {TARGET_GAP:.2f} s: {verdict}); "
              f"CPU to the first frame {cpus[label] - cpus['bare']:+.2f} s (clock ticks of 10 ms)")
    problems = [f"{label}: {note}" for label, rows in pty_results.items() for r in rows for note in r.notes]
    problems += [f"{label}: processes left running (killed)" for label, rows in pty_results.items() for r in rows if r.left_running]
    print("after ctrl+q: " + ("; ".join(problems) if problems else "every process exited, none left running"))

    if not headless:
        return
    print(f"\nheadless in-process (App.run(headless=True), {SIZE[0]}x{SIZE[1]}), medians:")
    print(f"{'':14} {'median s':>9} {'min s':>7} {'max s':>7}   {'python':>7} {'imports':>8} {'app':>7}")
    for label, rows in headless_results.items():
        totals = [float(r["total"]) for r in rows]  # type: ignore[arg-type]
        parts = {key: statistics.median(float(r[key]) for r in rows) for key in ("python", "imports", "app")}  # type: ignore[arg-type]
        print(f"{summary(label, totals)}   {parts['python']:7.3f} {parts['imports']:8.3f} {parts['app']:7.3f}")
    print(f"\nheavy modules imported at the first frame (runs that had it, of {runs}):")
    print(f"{'module':38} {'bare':>6} {'tuichat':>8}")
    for name in HEAVY:
        counts = [sum(name in r["modules"] for r in headless_results[label]) for label in ("bare", "tuichat")]  # type: ignore[operator]
        print(f"{name:38} {counts[0]:>6} {counts[1]:>8}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each variant (default 7)")
    parser.add_argument("--pipes", type=int, default=EXTRA_PIPES, help="small pipes added to the 5 examples (default 45)")
    parser.add_argument("--chats", type=int, default=CHATS, help="stored chats (default 5)")
    parser.add_argument(
        "--extra", metavar="LABEL=COMMAND", action="append", default=[],
        help="also time COMMAND in the pty like tuichat ({db} is the store), e.g. an older checkout (repeatable)",
    )
    parser.add_argument("--no-headless", dest="headless", action="store_false", help="skip the headless in-process figures")
    options = parser.parse_args()
    main(options.runs, options.pipes, options.chats, options.extra, options.headless)
