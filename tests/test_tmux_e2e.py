"""End to end: the installed `tuichat` console script in a real terminal (tmux), driven by keys.

It checks what no Pilot test can: the entry point starts the TUI in a real pty, keys typed into
a terminal reach it, the streamed reply and the activity pane are drawn on the terminal, and
ctrl+q ends the process. The screen is read with `tmux capture-pane -p`, polled with a deadline.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
# The console script installed beside this Python (not whichever `tuichat` is first on PATH).
_BESIDE = Path(sys.executable).with_name("tuichat")
TUICHAT = str(_BESIDE) if _BESIDE.exists() else shutil.which("tuichat")

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux); CI installs it"),
    pytest.mark.timeout(120),
]

WIDTH, HEIGHT = 100, 30


class Terminal:
    """One tmux server on its own socket, holding one session that runs one command."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"tuichat-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, check=check, timeout=30
        )

    def start(self, command: str, config: Path) -> None:
        # remain-on-exit keeps the pane (and so its screen, for failure messages) after the
        # command ends; set in the config, it is in force before the command starts.
        config.write_text(
            f"set -g default-size {WIDTH}x{HEIGHT}\n"
            "set -g status off\nset -g remain-on-exit on\n"
        )
        # Each tmux command is a client too, and one without a terminal counts as 80x24: with
        # the default window-size (latest) the window can shrink to that under the app. So the
        # size is fixed first, with a placeholder in the pane, then the command is started.
        self.run("-f", str(config), "new-session", "-d", "-s", "e2e", "-x", str(WIDTH), "-y", str(HEIGHT), "cat")
        self.run("set-option", "-g", "window-size", "manual")
        self.run("resize-window", "-t", "e2e", "-x", str(WIDTH), "-y", str(HEIGHT))
        size = self.pane("#{pane_width}x#{pane_height}")
        assert size == f"{WIDTH}x{HEIGHT}", f"the tmux pane is {size}, not {WIDTH}x{HEIGHT}"
        self.run("respawn-pane", "-k", "-t", "e2e", command)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "e2e").stdout

    def history(self) -> str:
        """The screen and its scrollback (what a program printed after leaving full screen)."""
        return self.run("capture-pane", "-p", "-J", "-S", "-", "-t", "e2e").stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "e2e", *(["-l"] if literal else []), *keys)

    def pane(self, fmt: str) -> str:
        return self.run("display-message", "-p", "-t", "e2e", fmt).stdout.strip()

    def wait(self, what: str, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        """Poll the screen until `condition(screen)` holds; fail showing the last screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.1)
        size = self.pane("#{pane_width}x#{pane_height}")
        pytest.fail(f"timed out waiting for {what}; the screen ({size}) was:\n{screen}")

    def kill(self) -> None:
        self.run("kill-server", check=False)


def test_tuichat_in_a_real_terminal_streams_a_reply_and_quits(terminal: Terminal, tmp_path: Path) -> None:
    assert TUICHAT is not None, "the tuichat console script is not on PATH: pip install -e ."
    db = tmp_path / "t.db"
    env = {"TUICHAT_DB": str(db), "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    exit_file = tmp_path / "exit-status"
    partial = shlex.quote(str(exit_file) + ".part")
    # `env -u`: started from pytest, the tmux server's global environment holds COLUMNS=80 and
    # LINES=24, and Textual takes those over the terminal's real size (shutil.get_terminal_size).
    tuichat = "env -u COLUMNS -u LINES " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    tuichat += " " + shlex.quote(TUICHAT)
    command = f"{tuichat}; echo $? > {partial} && mv {partial} {shlex.quote(str(exit_file))}"
    terminal.start(command, tmp_path / "tmux.conf")

    # The first frame, then the models listed by the runtime worker (the subtitle names one).
    terminal.wait("the chat screen", lambda s: "New chat" in s and "Enter sends" in s)
    terminal.wait("the models to load", lambda s: "no model" not in s and "Echo" in s)

    terminal.keys("C-o")
    terminal.wait("the model picker", lambda s: "Select a model" in s and "Event Tour" in s)
    terminal.keys("events", literal=True)
    terminal.wait("the filter to narrow the list", lambda s: "Ask Me" not in s)
    terminal.keys("Enter")
    terminal.wait("the events model to be chosen", lambda s: "Select a model" not in s and "Event Tour" in s)

    terminal.keys("take the tour", literal=True)
    terminal.wait("the typed message", lambda s: "take the tour" in s)
    terminal.keys("Enter")
    # Both drawn on the terminal: the streamed text in the conversation, the events in the pane.
    # (Its first line or its last: on a busy machine the tour can end, its top scrolled out of
    # view, between two looks.)
    terminal.wait(
        "the streamed reply and its activity",
        lambda s: ("This reply is a tour" in s or "suggested next questions" in s) and "[status]" in s,
    )
    # The tour ends with its last paragraph and the status "Tour complete".
    terminal.wait("the reply to finish", lambda s: "Tour complete" in s and "Follow-ups" in s)

    terminal.keys("C-q")
    # tmux can leave a finished pane's process unreaped (pane_dead_status stays empty), so the
    # shell running the command writes tuichat's exit status to a file instead.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not exit_file.exists():
        time.sleep(0.1)
    assert exit_file.exists(), f"tuichat did not exit on ctrl+q:\n{terminal.screen()}"
    status = exit_file.read_text().strip()
    assert status == "0", f"tuichat exited with status {status}; the terminal shows:\n{terminal.history()}"
    assert db.exists()
