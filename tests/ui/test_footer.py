"""The footer forgets the keys it no longer shows (Textual's own kept every one it drew)."""

from __future__ import annotations

import gc
import weakref

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from tuichat.ui.widgets.footer import Footer


class Keys(Input):
    BINDINGS = [Binding("f5", "nothing", "Five")]


class Plain(Input):
    BINDINGS = [Binding("f6", "nothing", "Six")]


class Focuses(App[None]):
    def compose(self) -> ComposeResult:
        yield Keys(id="keys")
        yield Plain(id="plain")
        yield Footer()


async def test_old_footer_keys_are_freed_after_the_bindings_change() -> None:
    app = Focuses()
    async with app.run_test(size=(80, 10)) as pilot:
        footer = app.query_one(Footer)
        await pilot.pause()
        drawn = [weakref.ref(key) for key in footer.query(FooterKey)]
        for _ in range(10):  # each focus change redraws the footer's keys
            await pilot.press("tab")
            await pilot.pause()
        shown = list(footer.query(FooterKey))
        assert "Six" in [key.description for key in shown] or "Five" in [key.description for key in shown]
        watchers = getattr(footer, "__watchers")["compact"]
        assert {id(node) for node, _ in watchers} <= {id(key) for key in shown}  # none of the keys gone
        del shown, watchers
        gc.collect()
        assert [ref() for ref in drawn if ref() is not None] == []
