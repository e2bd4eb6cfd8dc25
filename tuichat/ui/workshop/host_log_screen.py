"""The host log (from the pipes screen, `o`): what the pipe process printed that no call claimed.

A module's top-level code run when a source is checked or the models are listed, a thread
printing after its call ended, a crash's traceback: lines that belong to no reply's activity.
The app keeps the last `host_log.LIMIT` lines (`tuichat.runtime.hostproc.host_log`); here they
show with the time each arrived, newest at the bottom, and new ones are added as they come.
Esc closes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Log, Static

from tuichat.runtime.hostproc.host_log import HostLine, HostLog
from tuichat.ui.screens.prompts import DialogScreen, stylesheet

EMPTY = (
    "Nothing yet. Output the pipe process cannot give to one reply shows here: a module's "
    "top-level prints, a thread printing after its call ended, the process's own warnings."
)


def line_text(line: HostLine) -> str:
    stamp = time.strftime("%H:%M:%S", time.localtime(line.time)) + f".{int(line.time % 1 * 1000):03d}"
    return f"{stamp}  {line.text}"


class HostLogScreen(DialogScreen[None]):
    CSS_PATH = stylesheet(__file__)
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="dialog.cancel")]

    def __init__(self, log: HostLog) -> None:
        super().__init__()
        self.host_log = log
        self._stop: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Host log"
            yield Static("", id="host-log-summary", markup=False)
            yield Log(id="host-log-lines", max_lines=self.host_log.lines.maxlen, auto_scroll=True)
            yield Static("Esc close  ·  ↑/↓ PageUp/PageDown scroll", classes="dialog--keys", markup=False)

    def on_mount(self) -> None:
        view = self.query_one(Log)
        view.write_lines([line_text(line) for line in self.host_log.lines])
        self._summarise()
        self._stop = self.host_log.listen(self._added)
        view.focus()

    def on_unmount(self) -> None:
        if self._stop is not None:
            self._stop()

    def _added(self, line: HostLine) -> None:
        self.query_one(Log).write_line(line_text(line))
        self._summarise()

    def _summarise(self) -> None:
        log = self.host_log
        count = len(log.lines)
        if not count:
            text = EMPTY
        else:
            text = f"{count:,} line{'' if count == 1 else 's'}, newest at the bottom"
            if log.dropped:
                text += f"; {log.dropped:,} earlier line{'' if log.dropped == 1 else 's'} dropped (the last {log.lines.maxlen:,} are kept)"
        self.query_one("#host-log-summary", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
