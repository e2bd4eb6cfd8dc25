"""The terminal driver: Textual's, writing through a stream a hung-up terminal cannot break.

When the terminal goes away (an SSH drop, the terminal window closed) every write to it
fails with EIO. Textual writes from a thread of its own, which such an error ends; the
app's next writes then fill that thread's queue and block the event loop for ever, so the
SIGHUP handler (which saves the streaming reply) never finishes and the process lingers.
Writes that nobody can read any more are dropped instead (see tuichat.streams).
"""

from __future__ import annotations

from typing import Any

from textual.drivers.linux_driver import LinuxDriver

from tuichat.streams import QuietStream


class TerminalDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._file = QuietStream(self._file)
