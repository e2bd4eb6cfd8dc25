"""How much of a reply kill -9 loses: `python bench/kill_loss.py [--trials 10 --front cli,tui]`.

A reply is saved while it streams (tuichat.runtime.reply_saving: within SAVE_INTERVAL of any change,
by a timer, not only when the next chunk comes). This measures what that promise is worth
against a real kill -9, for two stream shapes:

- steady:  a word every 50 ms (20 words/s) for 30 s; killed at a random moment 1 to 4 s in;
- pausing: ten words 20 ms apart, then 30 s of thinking (nothing sent); killed at a random
           moment 0 to 3 s after the first word: during the burst, in the half second after
           it, or while the pipe thinks (where a save only on the next chunk lost every word).

Each front end runs as users run it, in a process of its own on a store in a temporary folder:
`cli` is `tuichat run MODEL go` (stdout to /dev/null), `tui` is the `tuichat` app in a 100x30
tmux terminal, the model picked with ctrl+o and the message typed (skipped without tmux).

Every word the pipe yields is appended, with `time.time()`, to a log file by an unbuffered
write, which survives the kill. After the kill the reply's stored text is read: the words it
holds are a prefix of those yielded. The loss of a trial is the kill time minus the time the
first word not stored was yielded (0 when every word yielded before the kill is stored): how
long the text lost had been in the process, on screen or on stdout, before it died.

Printed per front end and shape: max and median loss over the trials, and the load average
before and after. Target: max at most 1 s for both shapes.
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.0  # seconds: the most a kill -9 may lose
START_TIMEOUT = 30.0  # seconds for the first word to be yielded

# {log} is the word log; each word is `w0001 ` etc., its number and time logged as it is yielded.
PIPE = textwrap.dedent(
    '''
    """
    title: {title}
    """
    import asyncio, os, time

    LOG = {log!r}

    class Pipe:
        async def pipe(self, body):
            fd = os.open(LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                for i, gap in enumerate({gaps}):
                    os.write(fd, f"{{i}} {{time.time()}}\\n".encode())
                    yield f"w{{i:04d}} "
                    await asyncio.sleep(gap)
            finally:
                os.close(fd)
    '''
)

SHAPES: dict[str, tuple[str, tuple[float, float]]] = {
    # shape: (the gaps after each word, as Python source; when to kill, after the first word)
    "steady": ("[0.05] * 600", (1.0, 4.0)),
    "pausing": ("[0.02] * 9 + [30.0]", (0.0, 3.0)),
}


def console_script() -> str:
    beside = Path(sys.executable).parent / "tuichat"
    found = str(beside) if beside.exists() else shutil.which("tuichat")
    if found is None:
        sys.exit("the tuichat console script is not installed beside this Python: pip install -e .")
    return found


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "TUICHAT_DB"}


def setup(folder: Path) -> Path:
    db = folder / "kill.db"
    for shape, (gaps, _) in SHAPES.items():
        source = folder / f"{shape}.py"
        source.write_text(PIPE.format(title=shape.title(), log=str(folder / f"{shape}.log"), gaps=gaps), encoding="utf-8")
        subprocess.run(
            [sys.executable, "-m", "tuichat", "--db", str(db), "pipes", "add", str(source)],
            check=True, capture_output=True, env=env(),
        )
    return db


def read_log(log: Path) -> list[float]:
    """The time each word was yielded, in order (a last line cut short by the kill is left out)."""
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    times = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2:
            times.append(float(parts[1]))
    return times


def stored_words(db: Path) -> int:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        row = conn.execute(
            "SELECT content FROM message WHERE role = 'assistant' ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    return len(row[0].split()) if row else 0


def wait_for(what: str, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.005)


class CliFront:
    """`tuichat run MODEL go`, its output to /dev/null."""

    name = "cli"

    def __init__(self, db: Path) -> None:
        self.db = db
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, model: str) -> None:
        self.process = subprocess.Popen(
            [console_script(), "--db", str(self.db), "run", model, "go"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env(),
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class TuiFront:
    """The app in a 100x30 tmux terminal on a socket of its own; the message sent with keys."""

    name = "tui"

    def __init__(self, db: Path, tmux: str) -> None:
        self.db = db
        self.tmux = tmux
        self.socket = f"tuichat-kill-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.pid: int | None = None

    def run(self, *args: str) -> str:
        done = subprocess.run([self.tmux, "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return done.stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "kill")

    def wait_screen(self, what: str, condition: Callable[[str], bool], timeout: float = START_TIMEOUT) -> None:
        wait_for(what, lambda: condition(self.screen()), timeout)

    def start(self, model: str) -> None:
        # `env -u`: COLUMNS/LINES in tmux's environment would override the pane's real size.
        command = f"exec env -u COLUMNS -u LINES -u TUICHAT_DB TERM=xterm-256color {shlex.quote(console_script())} --db {shlex.quote(str(self.db))}"
        self.run("-f", "/dev/null", "new-session", "-d", "-s", "kill", "-x", "100", "-y", "30", command)
        self.run("set-option", "-g", "window-size", "manual")
        self.run("resize-window", "-t", "kill", "-x", "100", "-y", "30")
        self.pid = int(self.run("display-message", "-p", "-t", "kill", "#{pane_pid}").strip())
        self.wait_screen("the models to load", lambda s: "Enter sends" in s and "no model" not in s)
        # A key at a time: keys sent while the screen settles its focus can land elsewhere.
        for keys, literal in (("C-o", False), (model, True), ("Enter", False), ("go", True), ("Enter", False)):
            time.sleep(0.3)
            self.run("send-keys", "-t", "kill", *(["-l"] if literal else []), keys)

    def kill(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        wait_for("the app to end", lambda: not Path(f"/proc/{self.pid}").exists() or _zombie(self.pid), 10)

    def close(self) -> None:
        self.run("kill-server")


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] in "ZX"


def trial(front: CliFront | TuiFront, db: Path, folder: Path, shape: str, rng: random.Random) -> float:
    """One kill -9; the seconds of reply lost."""
    log = folder / f"{shape}.log"
    log.unlink(missing_ok=True)
    low, high = SHAPES[shape][1]
    front.start(shape)
    try:
        wait_for("the first word", lambda: bool(read_log(log)), START_TIMEOUT)
        first = read_log(log)[0]
        delay = rng.uniform(low, high)
        time.sleep(max(0.0, first + delay - time.time()))
        killed_at = time.time()
        front.kill()
    finally:
        front.close()
    yielded = [t for t in read_log(log) if t <= killed_at]
    kept = stored_words(db)
    if kept > len(yielded):
        raise AssertionError(f"the store holds {kept} words, more than the {len(yielded)} yielded before the kill")
    return 0.0 if kept >= len(yielded) else killed_at - yielded[kept]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--front", default="cli,tui", help="comma-separated: cli, tui")
    parser.add_argument("--shape", default="steady,pausing", help="comma-separated: steady, pausing")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tmux = shutil.which("tmux")
    load_before = os.getloadavg()
    results: list[tuple[str, str, list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="tuichat-kill-") as name:
        folder = Path(name)
        db = setup(folder)
        for front_name in args.front.split(","):
            if front_name == "tui" and tmux is None:
                print("tui: skipped, tmux is not installed (apt-get install tmux)")
                continue
            for shape in args.shape.split(","):
                losses = []
                for _ in range(args.trials):
                    front: CliFront | TuiFront = CliFront(db) if front_name == "cli" else TuiFront(db, tmux or "tmux")
                    losses.append(trial(front, db, folder, shape, rng))
                results.append((front_name, shape, losses))
                print(f"{front_name:3} {shape:7} " + " ".join(f"{loss:.2f}" for loss in losses), flush=True)
    print()
    print(f"{'front':5} {'shape':7} {'trials':>6} {'max s':>6} {'median s':>8}  target max <= {TARGET:.1f} s")
    failed = False
    for front_name, shape, losses in results:
        worst = max(losses)
        failed |= worst > TARGET
        print(f"{front_name:5} {shape:7} {len(losses):6} {worst:6.2f} {statistics.median(losses):8.2f}  {'ok' if worst <= TARGET else 'MISSED'}")
    after = os.getloadavg()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}; after: {' '.join(f'{x:.2f}' for x in after)}; {os.cpu_count()} CPUs")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
