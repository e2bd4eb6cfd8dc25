"""The activity pane: every event of the selected reply, in order, with its time.

Each entry reads as `runtime.reply.present.describe_entry` words it (the CLI prints the same
lines); the pane adds the time and styling. A filter (`ActivityFilter`) narrows it to the
events, the pipe's output or its logs; errors show under every filter, as they say why a reply
ended. The filter belongs to the pane, so it holds as replies are selected and stream.
Entries are written in batches of at most WRITE_BATCH, one batch every FLUSH_EVERY
seconds: a line costs about half a millisecond to lay out (and a write about one more), so a
pipe emitting events in a loop, or a reply with thousands of them selected, would otherwise
stall the app for seconds. Only the last MAX_LINES entries wait: the pane keeps no more lines.
"""

from __future__ import annotations

from collections import deque
from typing import Final, Literal, get_args

from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.timer import Timer
from textual.widgets import RichLog

from tuichat.runtime.reply.model import ActivityEntry
from tuichat.runtime.reply.present import describe_entry

NO_EVENTS = "No events yet"
NO_REPLY_EVENTS = "No events for this reply"
FLUSH_EVERY = 0.05  # seconds between writes of the entries added meanwhile
WRITE_BATCH = 40  # entries a write lists at most (about 20 ms of work)
MAX_LINES = 5000  # lines the pane keeps (the reply keeps its entries: `runtime.reply.capped`)
ActivityFilter = Literal["all", "events", "output", "logs"]
FILTERS: Final[tuple[ActivityFilter, ...]] = get_args(ActivityFilter)  # the order the filter key steps through


def category(entry: ActivityEntry) -> ActivityFilter:
    """Which filter shows an entry: "events" (events and `__event_call__`s), "output" (what the
    pipe or its subprocesses printed, and the host's own lines), "logs" (logging and loguru
    records, the call record and the chat path's filter hooks); "all" for an error (a filter
    hook that failed too), which every filter shows. What a filter hook emitted is an event."""
    if entry.kind == "error":
        return "all"
    if entry.kind == "request":
        return "logs"
    if entry.kind == "log":
        data = entry.data if isinstance(entry.data, dict) else {}
        if data.get("error") and ("filter" in data or "tool" in data):  # a hook or tool that failed: why the reply is as it is
            return "all"
        return "logs" if data.get("stream", "log") == "log" else "output"
    return "events"


def shown_under(entry: ActivityEntry, name: ActivityFilter) -> bool:
    return name == "all" or category(entry) in (name, "all")


def describe(entry: ActivityEntry) -> Text:
    """One line for an event, an event call and its answer, or an error (see `present`)."""
    line = describe_entry(entry)
    text = Text.assemble((f"+{entry.at:6.2f}s ", "dim"))  # a span: the rest of the line is not dim
    text.append(f"[{line.tag}] ", style="bold red" if line.error else "bold")
    text.append(line.text)
    if line.detail:
        text.append("\n" + line.detail, style="dim")
    return text


class ActivityPane(RichLog):
    DEFAULT_CSS = """
    ActivityPane {
        height: 8;
        overflow-y: auto;
        /* Lines are wrapped when written: keep the scrollbar's room so they fit once it shows. */
        scrollbar-gutter: stable;
        border: tall $border-blurred;
        border-title-color: $text-muted;
    }
    ActivityPane:focus {
        border: tall $border;
        border-title-color: $text;
        border-title-style: bold;
    }
    """

    # A write changes only what the pane scrolls over, and Textual lays the whole screen out
    # for it: every message of the chat (~100 ms with three 12,000-character replies), on
    # every event written and every reply selected. Its scrollbar is updated instead (its
    # gutter is kept, so the lines keep their width); a scrollbar shown or hidden still lays
    # the screen out.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        # min_width=1: RichLog otherwise wraps at 78 columns, wider than the pane, and clips.
        super().__init__(id=id, wrap=True, markup=False, max_lines=MAX_LINES, min_width=1)
        self.border_title = "Activity"
        self.filter: ActivityFilter = "all"
        self._entries: list[ActivityEntry] = []  # the reply's, all of them: a new filter lists them again
        self._no_entries = NO_EVENTS
        self._empty = False  # only the "no events" line is shown
        self._pending: deque[ActivityEntry] = deque(maxlen=MAX_LINES)  # added, not written yet
        self._flush: Timer | None = None

    def on_mount(self) -> None:
        self.show([], NO_EVENTS)

    def show(self, entries: list[ActivityEntry], empty: str = NO_REPLY_EVENTS) -> None:
        """List `entries` the filter lets through, or a dim line saying why there are none."""
        self._entries, self._no_entries = list(entries), empty
        self._list()

    def add(self, entry: ActivityEntry) -> None:
        """List `entry` too (within FLUSH_EVERY seconds, with any others added meanwhile)."""
        self._entries.append(entry)
        if not shown_under(entry, self.filter):
            if self._empty:  # the "nothing here" line now counts one more hidden entry
                self.clear()
                self._say_none()
            return
        self._pending.append(entry)
        self._schedule()

    def set_filter(self, name: ActivityFilter) -> None:
        self.filter = name
        self.border_title = "Activity" if name == "all" else f"Activity · {name}"
        self._list()

    def next_filter(self) -> ActivityFilter:
        """Step to the next filter (all → events → output → logs → all); the one now shown."""
        self.set_filter(FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)])
        return self.filter

    def _list(self) -> None:
        """List the entries the filter lets through afresh: the first WRITE_BATCH at once,
        the rest a batch every FLUSH_EVERY seconds."""
        if self._flush is not None:
            self._flush.stop()
            self._flush = None
        self._pending.clear()
        self.clear()
        shown = [entry for entry in self._entries if shown_under(entry, self.filter)]
        self._empty = not shown
        if self._empty:
            self._say_none()
        self._pending.extend(shown)
        self._write_pending()

    def _schedule(self) -> None:
        if self._flush is None and self._pending:
            self._flush = self.set_timer(FLUSH_EVERY, self._write_pending, name="activity writes")

    def _write_pending(self) -> None:
        """Write the next WRITE_BATCH entries waiting, in one write; the rest later."""
        self._flush = None
        pending = self._pending
        batch = [pending.popleft() for _ in range(min(WRITE_BATCH, len(pending)))]
        if batch:
            if self._empty:
                self.clear()
                self._empty = False
            # One write: rendering each line on its own costs ten times as much.
            self.write(Text("\n").join(describe(entry) for entry in batch))
        self._schedule()

    def _say_none(self) -> None:
        """The dim line instead of entries: none yet, or how many the filter hides."""
        hidden = len(self._entries)
        if not hidden:
            self.write(Text(self._no_entries, style="dim italic"))
        else:
            self.write(Text(f"No {self.filter} for this reply ({hidden} hidden by the filter)", style="dim italic"))
