"""The installed app in a real terminal (tmux) with a pipe that sends terminal control sequences
in its reply, status, notification, chat title and model name: an OSC 52 clipboard write, a
title change, a screen clear, a cursor query and their C1 forms. The terminal obeys none of
them: the pane's title and tmux's clipboard buffers stay as they were, the screen is not
cleared, nothing is typed into the prompt; the sequences show as pictures (`␛]52;…`).

First the same terminal is shown to obey such sequences written raw (set-clipboard on), so
a pass means the app kept them from it, not that tmux ignored them.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.cli_helpers import ok, tuichat
from tests.test_tmux_e2e import TMUX, TUICHAT, Terminal
from tests.test_tui_faults_e2e import send
from tests.test_untrusted import HOSTILE

pytestmark = [
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed (apt-get install tmux); CI installs it"),
    pytest.mark.timeout(120),
]


def buffers(terminal: Terminal) -> list[str]:
    return terminal.run("list-buffers", "-F", "#{buffer_sample}", check=False).stdout.split()


def test_a_pipes_control_sequences_never_reach_the_terminal(terminal: Terminal, tmp_path: Path) -> None:
    assert TUICHAT is not None, "the tuichat console script is not on PATH: pip install -e ."
    db = tmp_path / "t.db"
    (tmp_path / "hostile.py").write_text(HOSTILE, encoding="utf-8")
    ok(tuichat(db, "pipes", "add", str(tmp_path / "hostile.py")))

    terminal.start("cat", tmp_path / "tmux.conf")  # the pane's size fixed first (see Terminal)
    terminal.run("set-option", "-g", "set-clipboard", "on")
    # Raw, as a pipe's text would be written if nothing stopped it: obeyed.
    raw = r"printf '\033]0;BEFORE\007\033]52;c;UkFX\007'"
    env = "env -u COLUMNS -u LINES -u TUICHAT_DB TERM=xterm-256color TEXTUAL_ANIMATIONS=none"
    terminal.run("respawn-pane", "-k", "-t", "e2e", f"{raw}; {env} {shlex.quote(TUICHAT)} --db {shlex.quote(str(db))}")
    terminal.wait("the app", lambda s: "Enter sends" in s)
    assert terminal.pane("#{pane_title}") == "BEFORE" and buffers(terminal) == ["RAW"]

    send(terminal, "Talk", "hello")
    screen = terminal.wait(
        "the reply, its status and title",
        lambda s: "end ✓ 漢字 🎉" in s and "Title ␛]0;PWNED␇" in s and "esc Stop" not in s,
    )
    assert "start ␛]52;c;UFdORUQ=␇ mid ␛[2J␛[H\\x9b2J\\x9d0;PWNED\\x9c" in screen
    assert "busy ␛]0;PWNED␇" in screen
    # Not cleared: the header, the prompt and the footer are where they were; nothing typed.
    lines = screen.splitlines()
    assert "Title ␛]0;PWNED␇ — Talk ␛]0;PWNED␇" in lines[0]
    assert "Message · Enter sen" in screen and "f7 Pipes" in lines[-1]  # (a toast covers the rest)
    assert terminal.pane("#{pane_title}") == "BEFORE"
    assert buffers(terminal) == ["RAW"]
    terminal.keys("C-q")
