"""The installed `tuichat` in a real terminal (tmux) with a rotation of misbehaving pipes: one
whose process dies mid-reply, one that blocks its host in an async pipe (stopped with Esc), one
that writes thousands of lines and binary garbage to fd 1, and one that leaves a non-daemon
thread running. After each, the app still echoes what is typed; at the end ctrl+q ends it
promptly, with status 0 and the terminal given back (the app's screen gone)."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from tests.cli_helpers import ok, tuichat
from tests.test_tmux_e2e import TMUX, Terminal
from tests.test_tui_faults_e2e import command, exit_status

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux); CI installs it"),
    pytest.mark.timeout(120),
]

PIPES = {
    "bad_dies": """
        import os, time
        class Pipe:
            def pipe(self, body):
                yield "about to exit "
                time.sleep(0.1)
                os._exit(3)
    """,
    "bad_blocks": """
        import time
        class Pipe:
            async def pipe(self, body):
                yield "blocking "
                time.sleep(60)
    """,
    "bad_garbage": """
        import os
        class Pipe:
            def pipe(self, body):
                for i in range(3000):
                    print("line", i)
                os.write(1, bytes(range(256)) * 16)
                return "garbage written"
    """,
    "bad_thread": """
        import threading, time
        class Pipe:
            def pipe(self, body):
                threading.Thread(target=time.sleep, args=(3600,)).start()
                return "thread started"
    """,
}


def ask(terminal: Terminal, model: str, text: str) -> None:
    """Pick `model`, type `text` (it must show: the app answers keys), and send it."""
    terminal.wait("the reply before to end", lambda s: "Stop" not in s.splitlines()[-1])
    terminal.keys("C-o")
    terminal.wait("the model picker", lambda s: "Select a model" in s)
    terminal.keys(model, literal=True)
    terminal.keys("Enter")
    terminal.wait("the model to be chosen", lambda s: "Select a model" not in s)
    terminal.keys(text, literal=True)
    terminal.wait(f"'{text}' to echo", lambda s: text in s, timeout=10)
    terminal.keys("Enter")


def test_misbehaving_pipes_leave_the_app_typing_and_quitting(terminal: Terminal, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    for name, body in PIPES.items():
        path = tmp_path / f"{name}.py"
        path.write_text(f'"""\ntitle: {name}\n"""\n' + textwrap.dedent(body), encoding="utf-8")
        ok(tuichat(db, "pipes", "add", str(path)))
    exit_file = tmp_path / "exit-status"
    terminal.start(command(db, exit_file), tmp_path / "tmux.conf")
    terminal.wait("the models to load", lambda s: "no model" not in s and "Enter sends" in s)

    ask(terminal, "bad_dies", "first")
    terminal.wait("how the pipe died", lambda s: "the pipe process died: it exited with status 3" in s)
    ask(terminal, "bad_blocks", "second")
    # What it yields before blocking never leaves the host: its loop is blocked at once.
    terminal.wait("the reply to start", lambda s: "Stop" in s.splitlines()[-1])
    terminal.keys("Escape")  # the host is killed 2 s later: the pipe never yields to be cancelled
    terminal.wait("the reply to stop", lambda s: "Stopped" in s and "Stop" not in s.splitlines()[-1])
    ask(terminal, "bad_garbage", "third")
    terminal.wait("the reply", lambda s: "garbage written" in s)
    ask(terminal, "bad_thread", "fourth")
    terminal.wait("the reply", lambda s: "thread started" in s)
    ask(terminal, "bad_dies", "fifth")  # the host was replaced and still serves
    terminal.wait("how the pipe died", lambda s: s.count("the pipe process died: it exited with status 3") == 2)

    started = time.monotonic()
    terminal.keys("C-q")
    assert exit_status(exit_file) == "0", terminal.history()
    assert time.monotonic() - started < 10, "ctrl+q took more than 10 s"
    assert "Enter sends" not in terminal.screen()  # the app's screen is gone: the terminal is back
