"""Search (ctrl+f) opens the chat at the message that matched, scrolled to it and marked, and its
snippets are plain text with their spaces (before: the chat opened at its end, and a snippet
read `word41word42word43` with the Markdown's `**` in it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tests.ui.helpers import chat_app, ready, until
from tuichat.store import Store
from tuichat.store.search import MATCH_END, MATCH_START, SearchHit
from tuichat.ui.screens.search import SearchScreen, hit_label
from tuichat.ui.widgets.conversation import WINDOW, Conversation
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.user_message import UserMessage

SIZE = (100, 30)
FOUND = 4  # the exchange that holds the word searched for: far above the last window


def words(n: int) -> str:
    return " ".join(f"word{i}" for i in range(n, n + 8))


async def seed(db_path: Path) -> None:
    """A long chat (more exchanges than a window mounts) whose 5th reply holds 'pelicans'."""
    async with await Store.open(db_path) as store:
        chat = await store.chats.create("Birds and words", model_id="echo")
        for n in range(WINDOW + 10):
            question = await store.chats.add_message(chat.id, "user", f"Question {n}: {words(n * 10)}")
            answer = f"Answer {n}. " + ("Big **pelicans** fly `south` in winter." if n == FOUND else words(n * 10 + 1))
            await store.chats.add_message(chat.id, "assistant", answer, model_id="echo", parent_id=question.id)
        await store.settings.set("last_model", "echo")


async def search_and_open(pilot: Pilot[Any], query: str) -> SearchScreen:
    screen = await ready(pilot)
    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(pilot.app.screen, SearchScreen))
    dialog = pilot.app.screen
    assert isinstance(dialog, SearchScreen)
    await pilot.press(*query)
    await until(pilot, lambda: bool(dialog.hits))
    await pilot.press("enter")
    await until(pilot, lambda: screen.chat is not None and bool(screen.query(".-found")))
    return dialog


def test_a_snippet_keeps_its_spaces_and_drops_markdown() -> None:
    hit = SearchHit("c", "Words", "m", f"word41 {MATCH_START}word42{MATCH_END} word43 **bold** `code`", 0.0)
    assert hit_label(hit).plain == "Words\nword41 word42 word43 bold code"
    heading = SearchHit("c", "T", "m", f"# Heading\n\n- a {MATCH_START}pelican{MATCH_END}\n- [link](http://x)", 0.0)
    assert hit_label(heading).plain == "T\nHeading a pelican link"


async def test_search_opens_the_chat_at_the_matching_message(db_path: Path) -> None:
    await seed(db_path)
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        dialog = await search_and_open(pilot, "pelicans")
        assert "Big pelicans fly south in winter." in hit_label(dialog.hits[0]).plain
        conversation = screen.query_one(Conversation)
        [found] = conversation.query(".-found")
        assert isinstance(found, ReplyView) and "pelicans" in found.reply.content
        assert screen.selected_reply is found  # the activity pane shows its events
        await pilot.pause()
        view = conversation.scrollable_content_region
        top = found.region.y
        assert view.y <= top < view.bottom, "the match is on screen"
        assert conversation.scroll_y < conversation.max_scroll_y, "not at the end of the chat"
        # The message cursor goes on up from there, past the first message mounted.
        for _ in range(5):  # question 4, answer 3, question 3 (mounted), answer 2, question 2 (not)
            await pilot.press("ctrl+up")
        [cursor] = conversation.query(".-cursor")
        assert isinstance(cursor, UserMessage) and cursor.text.startswith(f"Question {FOUND - 2}:")
