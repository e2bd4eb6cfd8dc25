"""The installed `tuichat` app in a real terminal (tmux) when it is ended from outside: SIGTERM,
a hang-up (the tmux server killed: the terminal goes away, as in an SSH drop), kill -9, and
ctrl+q while another process holds the database's write lock.

A reply streaming when SIGTERM or SIGHUP comes is saved as interrupted with what arrived and
the app exits 128 + the signal. After kill -9 what arrived is in the database (saved within
a second: bench/kill_loss.py measures how soon), and the next start shows the reply as interrupted. A reply the database would not
take is written to a recovery file as the app ends, and the terminal says where.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_helpers import ok, tuichat
from tests.faults import PAUSING, steady, write_lock
from tests.test_tmux_e2e import TMUX, TUICHAT, Terminal

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux); CI installs it"),
    pytest.mark.timeout(120),
]

PAUSED_TEXT = "word0 word1 word2 word3 word4 word5 word6 word7 word8 word9"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    (tmp_path / "pausing.py").write_text(PAUSING, encoding="utf-8")
    (tmp_path / "steady.py").write_text(steady(60, 0.05), encoding="utf-8")
    ok(tuichat(path, "pipes", "add", str(tmp_path / "pausing.py")))
    ok(tuichat(path, "pipes", "add", str(tmp_path / "steady.py")))
    return path


def command(db: Path, exit_file: Path) -> str:
    """tuichat on `db`, its exit status written to `exit_file` (see test_tmux_e2e)."""
    assert TUICHAT is not None, "the tuichat console script is not on PATH: pip install -e ."
    env = {"TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    line = "env -u COLUMNS -u LINES -u TUICHAT_DB " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    line += f" {shlex.quote(TUICHAT)} --db {shlex.quote(str(db))}"
    partial = shlex.quote(f"{exit_file}.part")
    return f"{line}; echo $? > {partial} && mv {partial} {shlex.quote(str(exit_file))}"


def app_pid(terminal: Terminal) -> int:
    """The tuichat process: the child of the pane's shell."""
    shell = terminal.pane("#{pane_pid}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError("tuichat never started in the pane")


def send(terminal: Terminal, model: str, text: str) -> None:
    """Pick `model` and send `text`, once the app has listed the models."""
    terminal.wait("the models to load", lambda s: "no model" not in s and "Enter sends" in s)
    terminal.keys("C-o")
    terminal.wait("the model picker", lambda s: "Select a model" in s)
    terminal.keys(model, literal=True)
    terminal.keys("Enter")
    terminal.wait("the model to be chosen", lambda s: "Select a model" not in s)
    terminal.keys(text, literal=True)
    terminal.keys("Enter")


def last_reply(db: Path) -> tuple[str, str]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT content, status FROM message WHERE role = 'assistant' ORDER BY created_at DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else ("", "")


def wait_until(what: str, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2] in "ZX"


def exit_status(exit_file: Path) -> str:
    wait_until("the exit status", exit_file.exists, timeout=20)
    return exit_file.read_text().strip()


def test_sigterm_saves_the_streaming_reply_as_interrupted(terminal: Terminal, db: Path, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit-status"
    terminal.start(command(db, exit_file), tmp_path / "tmux.conf")
    send(terminal, "pausing", "think")
    terminal.wait("the ten words", lambda s: "word9" in s)
    os.kill(app_pid(terminal), signal.SIGTERM)
    assert exit_status(exit_file) == str(128 + signal.SIGTERM), terminal.history()
    assert last_reply(db) == (PAUSED_TEXT, "interrupted")


def test_a_hang_up_saves_the_streaming_reply_as_interrupted(terminal: Terminal, db: Path, tmp_path: Path) -> None:
    terminal.start(command(db, tmp_path / "exit-status"), tmp_path / "tmux.conf")
    send(terminal, "pausing", "think")
    terminal.wait("the ten words", lambda s: "word9" in s)
    pid = app_pid(terminal)
    terminal.kill()  # the terminal goes away: the app gets SIGHUP, as in an SSH drop
    wait_until("tuichat to end", lambda: gone(pid))
    assert last_reply(db) == (PAUSED_TEXT, "interrupted")


def test_after_kill_9_what_arrived_is_saved_and_shown_as_interrupted(terminal: Terminal, db: Path, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit-status"
    terminal.start(command(db, exit_file), tmp_path / "tmux.conf")
    send(terminal, "pausing", "think")
    terminal.wait("the ten words", lambda s: "word9" in s)
    # How soon they are saved (within 1 s) is measured by bench/kill_loss.py, not timed here.
    wait_until("the words to be saved", lambda: last_reply(db)[0].startswith(PAUSED_TEXT), timeout=5)
    os.kill(app_pid(terminal), signal.SIGKILL)
    assert exit_status(exit_file) == str(128 + signal.SIGKILL)
    assert last_reply(db) == (PAUSED_TEXT + " ", "streaming")
    # Started again: the reply is marked, and shows so in its chat, the one open when the app
    # was killed, which opens again.
    exit_file.unlink()
    terminal.run("respawn-pane", "-k", "-t", "e2e", command(db, exit_file))
    screen = terminal.wait("the interrupted reply", lambda s: "Interrupted: tuichat ended before the reply did" in s)
    assert PAUSED_TEXT in screen
    assert last_reply(db)[1] == "interrupted"


def notification_text(screen: str) -> str:
    """The notification's text, its wrapped lines joined: each line's part right of the
    toast's left border (the panes under it share the rows; a long path wraps it anywhere)."""
    lines = [line.rsplit("\u258c", 1)[1].rstrip(" \u258e\u2581\u2594") for line in screen.splitlines() if "\u258c" in line]
    return " ".join(" ".join(lines).split())


def test_a_reply_the_database_never_takes_goes_to_a_recovery_file(terminal: Terminal, db: Path, tmp_path: Path) -> None:
    exit_file = tmp_path / "exit-status"
    terminal.start(command(db, exit_file), tmp_path / "tmux.conf")
    send(terminal, "steady", "go")
    terminal.wait("the reply to start", lambda s: "w3." in s)
    with write_lock(db) as holder:
        screen = terminal.wait("the notification", lambda s: "Reply not saved yet" in s)
        assert f"pid {holder.pid}" in notification_text(screen)
        # The last word, and the footer's Stop key gone: the reply has ended (not stopped by ctrl+q).
        terminal.wait("the reply to end", lambda s: "w59." in s and "Stop" not in s)
        terminal.keys("C-q")
        assert exit_status(exit_file) == "2", terminal.history()
    history = " ".join(terminal.history().split())
    assert "tuichat: a reply could not be saved (" in history and f"is locked by pid {holder.pid}" in history
    [path] = list((tmp_path / "tuichat-recovery").iterdir())
    assert f"it was written to {path}" in history.replace(" ", "") or str(path.name) in history
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["reply"]["content"] == "".join(f"w{i}".ljust(8, ".") + " " for i in range(60)).strip()
    assert record["reply"]["status"] == "done" and record["user_message"] == "go"
    assert last_reply(db)[1] == "streaming"  # the database never had it
