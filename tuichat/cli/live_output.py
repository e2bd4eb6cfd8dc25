"""`tuichat run`'s terminal output while a reply streams, and the failures it names when the reply ends."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from tuichat.runtime.reply.model import Finished, Update
from tuichat.runtime.reply.present import describe_entry, usage_line


class LiveOutput:
    """Prints a reply as it streams: text to stdout, the rest to stderr, one line each.

    The reply is untrusted: the command's streams show its control characters rather than
    obey them (`cli.output.shown_streams`), chunk by chunk (a sequence split across chunks
    is no different: each character is shown on its own)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        # Looked up now, not at import: a redirected stdout (a driver, a bench) is honoured.
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.mid_line = False
        self.thinking = False
        self._held: list[Callable[[], None]] | None = None  # output waiting while a question is open

    def hold(self) -> None:
        """Keep updates back until `release` (a question is being asked at the terminal)."""
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        if self.mid_line:  # the question starts on a line of its own
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False
        self._held = []

    def release(self) -> None:
        held, self._held = self._held or [], None
        for write in held:
            write()

    def show(self, update: Update) -> None:
        if self._held is not None:
            self._held.append(lambda: self.show(update))
            return
        if update.reasoning:
            if not self.thinking:
                self.err.write("[thinking] ")
                self.thinking = True
            self.err.write(update.reasoning)
            self.err.flush()
        if update.replaced is not None:
            self._text(("\n" if self.mid_line else "") + update.replaced)
        elif update.text:
            self._text(update.text)
        # The call record is for --jsonl and the stored reply; stderr keeps to what happened.
        if update.event is not None and update.event.kind != "request":
            self._line(str(describe_entry(update.event)))

    def _text(self, text: str) -> None:
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        self.out.write(text)
        self.out.flush()
        if text:
            self.mid_line = not text.endswith("\n")

    def line(self, text: str) -> None:
        """A line of its own on stderr (ending a line of reasoning first)."""
        if self._held is not None:
            self._held.append(lambda: self._line(text))
            return
        self._line(text)

    def _line(self, text: str) -> None:
        if not text:
            return
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        self.err.write(text + "\n")
        self.err.flush()

    def finish(self, finished: Finished) -> None:
        self.release()
        self.show(finished.update)
        reply = finished.reply
        if self.thinking:
            self.err.write("\n")
        if self.mid_line:
            self.out.write("\n")
        self.out.flush()
        if reply.usage:
            self._line(f"[usage] {usage_line(reply.usage)}")
        if reply.status == "stopped":
            self._line("[stopped] the reply was stopped; what arrived is kept")

        for entry in filter_failures(reply.activity):
            self._line(f"[{entry.tag}] {entry.text}")
        if reply.error is not None:
            self._line(f"error: {reply.error}")
            if reply.traceback:
                self.err.write(reply.traceback.rstrip() + "\n")


def filter_failures(activity: list[Any]) -> list[Any]:
    """The chat-path filter hooks that failed or dropped chunks, the legacy tool calls that
    failed, and tools that raised or were stopped: the user must see which."""
    return [
        describe_entry(entry)
        for entry in activity
        if entry.kind == "log" and isinstance(entry.data, dict) and ("filter" in entry.data or "tool" in entry.data)
        and (entry.data.get("error") or entry.data.get("outcome"))
    ]  # fmt: skip
