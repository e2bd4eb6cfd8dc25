"""The activity pane: every event of the selected reply, in order, with its time.

Each entry reads as `runtime.reply.present.describe_entry` words it (the CLI prints the same
lines); the pane adds the time and styling.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from tuichat.runtime.reply.model import ActivityEntry
from tuichat.runtime.reply.present import describe_entry

NO_EVENTS = "No events yet"
NO_REPLY_EVENTS = "No events for this reply"


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

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        # min_width=1: RichLog otherwise wraps at 78 columns, wider than the pane, and clips.
        super().__init__(id=id, wrap=True, markup=False, max_lines=5000, min_width=1)
        self.border_title = "Activity"
        self._empty = False  # only the "no events" line is shown

    def on_mount(self) -> None:
        self.show([], NO_EVENTS)

    def show(self, entries: list[ActivityEntry], empty: str = NO_REPLY_EVENTS) -> None:
        """List `entries`, or a dim `empty` line when there are none."""
        self.clear()
        for entry in entries:
            self.write(describe(entry))
        self._empty = not entries
        if self._empty:
            self.write(Text(empty, style="dim italic"))

    def add(self, entry: ActivityEntry) -> None:
        if self._empty:
            self.clear()
            self._empty = False
        self.write(describe(entry))
