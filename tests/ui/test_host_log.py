"""The host log, from the pipes screen: a pipe printing at import time (when the models are
listed, outside any call) shows there, with its time, neutralised; new lines arrive while it is
open; Esc closes it. And the log itself: bounded, counting what it let go."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Log, Static

from tests.ui.helpers import open_pipes, opens, until, with_pipe
from tuichat.runtime.hostproc.host_log import HostLog
from tuichat.ui.app import TuichatApp
from tuichat.ui.workshop.host_log_screen import HostLogScreen
from tuichat.ui.workshop.pipes_screen import PipesScreen

SIZE = (100, 30)

NOISY = '''
import sys
print("noisy says hello at import")
sys.stderr.write("\\x1b]0;a new title\\x07 noisy on stderr\\n")

class Pipe:
    def pipe(self, body):
        return "ok"
'''


def log_lines(screen: HostLogScreen) -> list[str]:
    return [str(line) for line in screen.query_one(Log).lines]


async def test_a_pipe_printing_at_import_shows_in_the_host_log(db_path: Path) -> None:
    await with_pipe(db_path, NOISY, "noisy")
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        pipes = await open_pipes(pilot)
        host = app.services.host  # type: ignore[union-attr]
        await until(pilot, lambda: any("noisy says hello" in line.text for line in host.log.lines))
        screen = await opens(pilot, "o", HostLogScreen)
        lines = log_lines(screen)
        said = next(line for line in lines if "noisy says hello at import" in line)
        assert said[2] == ":" and said[5] == ":" and said[8] == "."  # HH:MM:SS.mmm, then the line
        assert any(line.endswith("␛]0;a new title␇ noisy on stderr") for line in lines)  # shown, not obeyed
        assert "newest at the bottom" in str(screen.query_one("#host-log-summary", Static).render())
        host.log.add("a thread printing later")  # as the host's stderr reader adds them
        await until(pilot, lambda: log_lines(screen)[-1].endswith("a thread printing later"))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PipesScreen))
        assert app.screen is pipes


def test_the_host_log_keeps_the_last_lines_and_counts_the_rest() -> None:
    log = HostLog(limit=3)
    seen: list[str] = []
    stop = log.listen(lambda line: seen.append(line.text))
    for n in range(5):
        log.add(f"line {n}\x1b[2J")
    stop()
    log.add("unheard")
    assert [line.text for line in log.lines] == ["line 3␛[2J", "line 4␛[2J", "unheard"]
    assert log.dropped == 3 and len(seen) == 5
    log.add("x" * 5000)
    assert log.lines[-1].text.endswith("… (1,000 more characters not kept)")
