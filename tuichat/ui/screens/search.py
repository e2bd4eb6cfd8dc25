"""Search every chat's text (SQLite FTS5) and open the chat a hit belongs to, at the message
that matched (ctrl+f)."""

from __future__ import annotations

import dataclasses

from rich.text import Text
from textual import getters, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from tuichat.runtime.plain_text import markdown_to_plain
from tuichat.runtime.untrusted import neutralise
from tuichat.store.chats import SearchHit
from tuichat.ui.app import TuichatApp
from tuichat.ui.screens.prompts import DialogScreen, stylesheet


def hit_label(hit: SearchHit) -> Text:
    """The chat's title, and the snippet as plain text on one line, the matched words marked.
    Spaces at the edges of a piece are kept: they are what separates it from the match."""
    # Titles and replies are the pipes' words: their control characters are shown.
    label = Text(neutralise(hit.chat_title or "New chat"), style="bold")
    label.append("\n")
    plain = dataclasses.replace(hit, snippet=markdown_to_plain(hit.snippet).strip())
    for piece, is_match in plain.parts():
        label.append(neutralise(piece), style="reverse" if is_match else "")
    return label


class SearchScreen(DialogScreen[SearchHit | None]):
    """Returns the hit to open (its chat, at its message), or None. Searches the app's store."""

    CSS_PATH = stylesheet(__file__)
    app = getters.app(TuichatApp)

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="search.cancel"),
        Binding("down", "move(1)", "Next", id="search.next", show=False),
        Binding("up", "move(-1)", "Previous", id="search.previous", show=False),
        Binding("enter", "open", "Open", id="search.open", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[SearchHit] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = "Search chats"
            yield Input(placeholder="Words to find in any chat")
            yield OptionList()
            yield self.keys_hint(("↑↓", "move"), ("Enter", "open"), ("Esc", "cancel"))

    def on_mount(self) -> None:
        self.query_one(OptionList).can_focus = False
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(exclusive=True, group="search")
    async def _search(self, query: str) -> None:
        self.hits = await self.app.store.chats.search(query) if query.strip() else []
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(hit_label(hit), id=str(n)) for n, hit in enumerate(self.hits)])
        if self.hits:
            options.highlighted = 0

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_open()

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    def action_open(self) -> None:
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is not None and highlighted < len(self.hits):
            self.dismiss(self.hits[highlighted])

    def action_cancel(self) -> None:
        self.dismiss(None)
