"""A long stored chat: windows mounted as the user scrolls up, folded far below the viewport."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Callable
from dataclasses import replace

import pytest
from rich.segment import Segment
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from tests.ui.helpers import Layouts, screen_lines, settled, until
from tuichat.examples.markdown import ANSWER
from tuichat.runtime.invocation.codec import chunk_line
from tuichat.runtime.invocation.trace import SseStep
from tuichat.runtime.reply.builder import ReplyBuilder
from tuichat.store import MessageRow
from tuichat.ui.widgets.closed_chats import ClosedChats
from tuichat.ui.widgets.conversation import WINDOW, Conversation
from tuichat.ui.widgets.fold import FoldSpacer
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.reply_text import ReplyText
from tuichat.ui.widgets.stored_markdown import StoredMarkdown
from tuichat.ui.widgets.user_message import UserMessage


def message(n: int) -> MessageRow:
    user = n % 2 == 0
    content = (
        f"question {n // 2}"
        if user
        else f"## Answer {n // 2}\n\nA paragraph about item {n // 2}.\n\n- one\n- two\n\n```python\nx = {n}\n```\n"
    )
    now = time.time()
    return MessageRow(
        id=f"m{n}", chat_id="c", parent_id=f"m{n - 1}" if n else None, role="user" if user else "assistant",
        content=content, model_id=None if user else "echo", created_at=now, updated_at=now, status="done",
        error=None, reasoning=None, usage=None, extra={},
    )


class Chat(App[None]):
    def __init__(self, messages: list[MessageRow]) -> None:
        super().__init__()
        self.messages = messages
        self.animation_level = "none"

    def compose(self) -> ComposeResult:
        yield Conversation(id="conversation")

    async def on_mount(self) -> None:
        conversation = self.query_one(Conversation)
        await conversation.show(self.messages)
        conversation.focus()


async def opened(pilot: Pilot[None], app: Chat) -> Conversation:
    conversation = app.query_one(Conversation)
    await settled(pilot, lambda: len(conversation.children))
    assert conversation.first_mounted == len(app.messages) - WINDOW
    return conversation


async def page_up_until(pilot: Pilot[None], conversation: Conversation, done: Callable[[], object]) -> None:
    """Press pageup until `done()`, then wait for the mounting and folding to settle."""
    for _ in range(400):
        if done():
            break
        await pilot.press("pageup")
    await settled(pilot, lambda: (conversation.first_mounted, conversation.folded))
    assert done()


def first_message_shown(conversation: Conversation) -> str:
    """The id of the first message whose top is on screen."""
    top = conversation.region.y
    for child in conversation.children:
        if isinstance(child, (UserMessage, ReplyView)) and child.display and child.region and child.region.y >= top:
            return child.message_id  # type: ignore[no-any-return]
    return ""


async def test_a_long_chat_opens_in_one_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its messages are mounted and composed, then laid out together with the scrollbar they
    need: a layout between the levels of widgets that compose, and the scrollbar shown after
    the first layout (narrowing every message), cost the open 4 to 8 layouts."""
    app = Chat([message(n) for n in range(3 * WINDOW)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        await conversation.show([])  # a new chat: no scrollbar
        await settled(pilot, lambda: conversation.vertical_scrollbar.display)
        assert not conversation.vertical_scrollbar.display
        layouts = Layouts(monkeypatch)
        await conversation.show(app.messages)
        await settled(pilot, lambda: screen_lines(app))
        assert layouts.count == 1
        assert conversation.vertical_scrollbar.display
        assert f"x = {3 * WINDOW - 1}" in "\n".join(screen_lines(app))  # the last reply, at the end


async def test_scrolling_up_mounts_earlier_windows_and_folds_what_is_far_below() -> None:
    app = Chat([message(n) for n in range(200)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        await page_up_until(pilot, conversation, lambda: conversation.first_mounted <= 200 - 4 * WINDOW)
        assert conversation.folded > 0  # what the user scrolled far above of is folded
        hidden = [c for c in conversation.children if not c.display and not isinstance(c, FoldSpacer)]
        assert len(hidden) == conversation.folded

        # Folding moves nothing: the same lines are painted with everything shown.
        folded = await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y, screen_lines(app)))
        assert any(line.strip() for line in folded[2])
        conversation.unfold()
        unfolded = await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y, screen_lines(app)))
        assert unfolded == folded
        assert conversation.folded == 0


async def test_scrolling_back_down_shows_what_was_folded() -> None:
    app = Chat([message(n) for n in range(200)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        await page_up_until(pilot, conversation, lambda: conversation.first_mounted <= 200 - 3 * WINDOW and conversation.folded)

        # Page by page down to the end: every page shows messages, in order, never a blank.
        seen: list[int] = []
        for _ in range(400):
            await pilot.press("pagedown")
            await pilot.pause()
            shown = first_message_shown(conversation)
            assert shown, "a page with no message on it"
            seen.append(int(shown[1:]))
            if conversation.scroll_y >= conversation.max_scroll_y and conversation.folded == 0:
                break
        assert seen == sorted(seen)
        await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y))
        assert conversation.folded == 0
        assert "question 99" in "\n".join(screen_lines(app))


async def test_end_jumps_to_the_last_message_over_folded_ones() -> None:
    app = Chat([message(n) for n in range(200)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        await page_up_until(pilot, conversation, lambda: conversation.folded)
        await pilot.press("end")
        lines = await settled(pilot, lambda: screen_lines(app))
        assert "question 99" in "\n".join(lines)


async def test_a_streaming_reply_folds_the_messages_it_pushes_out_of_view_until_the_user_scrolls_up() -> None:
    # Every layout the reply costs walked the messages above it, though out of view.
    app = Chat([message(n) for n in range(40)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        view, builder = ReplyView(streaming=True), ReplyBuilder()
        await conversation.add(view)
        text = "".join(f"## Part {n}\n\nA line about part {n}, long enough to wrap once or twice.\n\n" for n in range(30))
        for start in range(0, len(text), 40):
            view.apply(builder.feed(SseStep(chunk_line("m", text[start : start + 40]))))
            await pilot.pause(0.05)
        await settled(pilot, lambda: (conversation.folded_above, conversation.scroll_y))
        # The stored messages, in runs of a screen or more (the last run may be too short yet).
        messages = conversation.messages()
        assert conversation.folded_above >= WINDOW - 2
        assert [m.display for m in messages] == [False] * conversation.folded_above + [True] * (
            len(messages) - conversation.folded_above
        )
        folded_count = conversation.folded_above
        await view.finish(builder.finish())
        folded = await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y, screen_lines(app)))
        assert "Part 29" in "\n".join(folded[2])
        assert conversation.folded_above == folded_count  # the end of the stream leaves them folded

        conversation.unfold()  # folding moved nothing
        unfolded = await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y, screen_lines(app)))
        assert unfolded == folded

        conversation.scroll_end(animate=False)
        await pilot.press("pageup")  # and the user scrolling up shows them
        await settled(pilot, lambda: (conversation.folded_above, conversation.scroll_y))
        assert conversation.folded_above == 0
        assert all(c.display for c in conversation.children if isinstance(c, (UserMessage, ReplyView)))


async def test_what_a_reply_folded_is_shown_again_when_its_end_brings_it_into_view() -> None:
    # The blank lines kept under the text go at the end: the reply shrinks, the view follows
    # it up, onto what was folded above it. It was left folded: blank lines on screen.
    app = Chat([])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = app.query_one(Conversation)
        view, builder = ReplyView(streaming=True), ReplyBuilder()
        await conversation.add(UserMessage("Show me some Markdown"))
        await conversation.add(view)
        for start in range(0, len(ANSWER), 6):
            view.apply(builder.feed(SseStep(chunk_line("m", ANSWER[start : start + 6]))))
            await pilot.pause(0.01)
        await view.finish(builder.finish())
        finished = await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y, screen_lines(app)))
        for text in view.query(ReplyText).results(ReplyText):
            text.folding.unfold()
        unfolded = await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y, screen_lines(app)))
        assert finished == unfolded


async def test_a_held_pageup_keeps_mounting_earlier_windows() -> None:
    """Keys come every 30 ms, as a held key repeats, whether or not a window is mounting."""
    app = Chat([message(n) for n in range(200)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        for _ in range(600):
            if conversation.first_mounted <= 200 - 4 * WINDOW:
                break
            key = events.Key("pageup", None)
            key.set_sender(app)
            app.post_message(key)
            await asyncio.sleep(0.03)
        assert conversation.first_mounted <= 200 - 4 * WINDOW
        await settled(pilot, lambda: (conversation.first_mounted, conversation.folded))
        assert conversation.folded > 0


async def test_opening_another_chat_while_an_earlier_window_mounts() -> None:
    app = Chat([message(n) for n in range(200)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        for _ in range(400):
            if conversation.mounting:
                break
            key = events.Key("pageup", None)
            key.set_sender(app)
            app.post_message(key)
            await asyncio.sleep(0.01)
        assert conversation.mounting
        other = [replace(message(n), id=f"o{n}", chat_id="other") for n in range(30)]
        await conversation.show(other)
        await settled(pilot, lambda: (len(conversation.children), conversation.first_mounted, conversation.mounting))
        ids = [child.message_id for child in conversation.children if isinstance(child, (UserMessage, ReplyView))]  # type: ignore[attr-defined]
        # The other chat alone, in order, from its first message mounted to its last: none of
        # the chat closed. (Keys posted before it opened and still queued are the user's: they
        # may page it up, which mounts its earlier window, as they should.)
        first = conversation.first_mounted
        assert first <= 30 - WINDOW and not conversation.mounting
        assert ids == [f"o{n}" for n in range(first, 30)]
        assert app.is_running


async def test_a_chat_closed_for_a_new_one_is_freed_with_its_replies() -> None:
    """Starting a new chat frees the widgets of the one shown (and every reply's text and
    activity with them): its last layouts named them, so they lived on in the soak."""
    app = Chat([message(n) for n in range(10)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened_small(pilot, app)
        replies = [weakref.ref(view) for view in conversation.query(ReplyView)]
        assert replies
        await conversation.show([])  # a new chat (ctrl+n)
        await pilot.pause(ClosedChats.AFTER + 0.1)
        gc.unfreeze()  # the new chat was frozen: unfrozen, a full pass sees everything
        gc.collect()
        assert [ref() for ref in replies if ref() is not None] == []


async def test_a_chat_closed_is_freed_by_the_conversation_itself_once_the_new_one_is_painted() -> None:
    """The conversation collects the chat it replaces (no collection here) before freezing
    the new one, once that is painted: a full pass before held its last layouts back. (The
    children's cache of which were displayed, and the screen's compositor until the next
    layout, named the removed replies: collected too soon, they were frozen and freed only
    when yet another chat was opened.)"""
    app = Chat([message(n) for n in range(10)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened_small(pilot, app)
        replies = [weakref.ref(view) for view in conversation.query(ReplyView)]
        assert replies
        await conversation.show([])
        await pilot.pause(0.1)  # painted: not yet collected (a full pass would hold the paint back)
        assert [ref() for ref in replies if ref() is not None] != []
        try:
            await until(pilot, lambda: [ref() for ref in replies if ref() is not None] == [])
        finally:
            gc.unfreeze()


class TypingChat(Chat):
    """A chat whose user keeps typing until `typing` goes False (as the app's `last_input`)."""

    typing = True

    @property
    def last_input(self) -> float:
        return time.monotonic() if self.typing else 0.0


async def test_a_chat_closed_is_freed_once_the_keys_pause() -> None:
    """The collector's pause that frees the chat closed does not land between keys: it waits
    for them to pause."""
    app = TypingChat([message(n) for n in range(10)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened_small(pilot, app)
        replies = [weakref.ref(view) for view in conversation.query(ReplyView)]
        await conversation.show([])
        try:
            await pilot.pause(ClosedChats.AFTER + ClosedChats.QUIET)
            assert [ref() for ref in replies if ref() is not None] != []  # still typing
            app.typing = False
            await until(pilot, lambda: [ref() for ref in replies if ref() is not None] == [])
        finally:
            gc.unfreeze()


async def opened_small(pilot: Pilot[None], app: Chat) -> Conversation:
    conversation = app.query_one(Conversation)
    await settled(pilot, lambda: len(conversation.children))
    return conversation


async def test_the_scroll_bar_keeps_its_lines_only_while_it_stays_where_it_is() -> None:
    """The bar's lines are kept between its refreshes (Textual would render them again for
    every write of a streaming reply): scrolled, it draws its thumb where Textual does."""
    app = Chat([message(n) for n in range(WINDOW)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        bar = conversation.vertical_scrollbar
        assert bar.display
        crop = Region(0, 0, bar.size.width, bar.size.height)

        def drawn(lines: list[Strip]) -> list[list[Segment]]:
            return [list(line) for line in lines]

        at_end = drawn(bar.render_lines(crop))
        await pilot.press("home")
        await settled(pilot, lambda: conversation.scroll_y)
        assert conversation.scroll_y == 0
        at_top = drawn(bar.render_lines(crop))
        assert at_top != at_end
        assert at_top == drawn(Widget.render_lines(bar, crop))  # Textual's own rendering


async def test_a_container_renders_one_line_for_all_its_alike_lines_as_textual_renders_them() -> None:
    """A reply's own lines (its background and left edge, under its blocks) are alike: one is
    rendered and repeated, and they are what Textual renders line by line."""
    app = Chat([message(n) for n in range(WINDOW)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        view = conversation.replies()[-1]
        view.add_class("-found")  # a background and a thick left edge
        await pilot.pause()
        for widget in (view, view.query_one(StoredMarkdown), conversation):
            crop = Region(0, 0, widget.size.width, widget.size.height)
            assert crop.height > 1
            kept = [list(line) for line in widget.render_lines(crop)]
            assert kept == [list(line) for line in Widget.render_lines(widget, crop)]
        assert any(segment.style and segment.style.bgcolor for segment in kept[0])
        view.styles.border_top = ("round", "red")  # lines no longer alike: rendered each
        await pilot.pause()
        crop = Region(0, 0, view.size.width, view.size.height)
        kept = [list(line) for line in view.render_lines(crop)]
        assert kept == [list(line) for line in Widget.render_lines(view, crop)] and kept[0] != kept[1]


def drawn(lines: list[Strip]) -> list[list[Segment]]:
    return [list(line) for line in lines]


async def test_a_stored_replys_blocks_keep_their_lines_until_they_are_refreshed() -> None:
    """Textual's blocks inside a stored reply (a paragraph, a list's bullet, a fence's code)
    are asked for their lines at every repaint near them: kept between refreshes, they are
    what Textual renders, and a refresh, a new style or another line filter renders anew."""
    app = Chat([message(n) for n in range(WINDOW)])
    async with app.run_test(size=(80, 24)) as pilot:
        conversation = await opened(pilot, app)
        markdown = conversation.replies()[-1].query_one(StoredMarkdown)
        blocks = [markdown.query(kind).first() for kind in ("MarkdownParagraph", "MarkdownBullet", "MarkdownFence Label")]
        for block in blocks:
            crop = Region(0, 0, block.size.width, block.size.height)
            kept = block.render_lines(crop)
            assert block.render_lines(crop) is kept  # not rendered again
            assert drawn(kept) == drawn(Widget.render_lines(block, crop))  # Textual's own rendering

            filters = app.get_line_filters()
            app._filters[0].enabled = not app._filters[0].enabled  # (a theme's ANSI colours)
            try:
                assert app.get_line_filters() != filters
                assert block.render_lines(crop) is not kept
            finally:
                app._filters[0].enabled = not app._filters[0].enabled
            kept = block.render_lines(crop)
            assert block.render_lines(crop) is kept  # kept again, with the filters back

            block.styles.background = "red"  # a refresh
            await pilot.pause()
            restyled = block.render_lines(crop)
            assert drawn(restyled) == drawn(Widget.render_lines(block, crop)) != drawn(kept)
            assert any(segment.style and segment.style.bgcolor and segment.style.bgcolor.name == "#ff0000"
                       for segment in restyled[0])  # fmt: skip
