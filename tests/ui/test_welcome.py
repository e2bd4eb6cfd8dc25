"""Finding your way: the welcome in an empty chat, times on messages, the chat list by day
(with `tuichat run`'s chats apart), the last chat reopened on start, and the chat list and a
reply's folds by keyboard. Pilot against a real SQLite file; snapshots of the welcome at 80x24
and of the chat list's day groups."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Collapsible, Static

from tests.ui.conftest import FIXED_NOW
from tests.ui.helpers import chat_app, chat_screen, pick, ready, screen_lines, send, until
from tuichat import examples
from tuichat.runtime.transfer import EXAMPLE_IDS
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.widgets import when
from tuichat.ui.widgets.chat_list import RUN_GROUP, ChatList
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.user_message import UserMessage
from tuichat.ui.widgets.welcome import EXAMPLES, Welcome, welcome_text

DAY = 24 * 3600
WIDE = (120, 40)


def _prompts(chats: ChatList) -> list[str]:
    return [str(chats.get_option_at_index(i).prompt) for i in range(chats.option_count)]


async def _seed_days(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Chats used today, yesterday and a week ago, and two `tuichat run` made since: ids by name."""
    from tuichat.store import chats as chats_module

    clock = {"now": FIXED_NOW}
    monkeypatch.setattr(chats_module, "time", type("Clock", (), {"time": staticmethod(lambda: clock["now"])}))
    ids = {}
    async with await Store.open(db_path) as store:
        for name, age, origin in [
            ("Last week's plan", 7 * DAY, "app"),
            ("Yesterday's chat", DAY, "app"),
            ("This morning", 5 * 3600, "app"),
            ("scripted one", 3600, "run"),
            ("scripted two", 60, "run"),
        ]:
            clock["now"] = FIXED_NOW - age
            chat = await store.chats.create(name, model_id="echo", origin=origin)  # type: ignore[arg-type]
            question = await store.chats.add_message(chat.id, "user", f"about {name}")
            await store.chats.add_message(chat.id, "assistant", "noted", model_id="echo", parent_id=question.id)
            ids[name] = chat.id
    clock["now"] = FIXED_NOW
    return ids


# -- the welcome -----------------------------------------------------------------------------
def test_every_seeded_example_is_in_the_welcome() -> None:
    """The welcome lists what ctrl+o can pick at once: the seeded examples. The agent is bundled
    but added by hand (it needs a server's address and model first: README, "An agent")."""
    bundled = {p.stem for p in Path(examples.__file__).parent.glob("*.py") if p.stem != "__init__"}
    assert set(EXAMPLES) == set(EXAMPLE_IDS)
    assert bundled - set(EXAMPLE_IDS) == {"agent"}
    assert "tuichat/examples/agent.py" in (Path(__file__).parents[2] / "README.md").read_text()


def _welcome_words() -> list[str]:
    from rich.console import Console

    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(welcome_text())
    return console.export_text().split()


@pytest.mark.parametrize("size", [(80, 24), WIDE])
async def test_the_welcome_fits_whole(db_path: Path, size: tuple[int, int]) -> None:
    """Every word of it on screen (wrapped as the width needs), at 80x24 and beside the panes."""
    async with chat_app(db_path, size) as (_app, pilot, screen):
        await pilot.pause()
        shown = " ".join(screen_lines(pilot.app)).split()
        assert [word for word in _welcome_words() if word not in shown] == []


async def test_an_empty_chat_welcomes_until_its_first_message(db_path: Path) -> None:
    async with chat_app(db_path, (80, 24)) as (_app, pilot, screen):
        text = "\n".join(screen_lines(pilot.app))
        for name, _ in EXAMPLES.values():
            assert name in text
        for words in ("runs Open WebUI pipes", "ctrl+o model", "F7 pipes", "ctrl+p every command", "Tab reads", "Ollama"):
            assert words in text
        await pick(pilot, "echo")
        await send(pilot, screen, "hi")
        await until(pilot, lambda: not screen.query(Welcome))
        assert "runs Open WebUI pipes" not in "\n".join(screen_lines(pilot.app))
        await until(pilot, lambda: not screen.streaming)
        await pilot.press("ctrl+n")  # a new chat welcomes again
        await until(pilot, lambda: bool(screen.query(Welcome)))


# -- times -----------------------------------------------------------------------------------
async def test_messages_show_their_time_and_another_day_its_date(
    db_path: Path, fixed_clock: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _seed_days(db_path, monkeypatch)
    async with chat_app(db_path, WIDE) as (_app, pilot, screen):
        await screen.open_chat(ids["This morning"])
        await pilot.pause()
        user = screen.query_one(UserMessage)
        assert user.text == "about This morning"
        assert "09:05" in " ".join(screen_lines(pilot.app))  # 14:05 UTC less five hours
        label = screen.query_one(ReplyView).query_one(".model", Static)
        assert str(label.render()) == "Echo · 09:05"
        await screen.open_chat(ids["Last week's plan"])
        await pilot.pause()
        assert str(screen.query_one(ReplyView).query_one(".model", Static).render()) == "Echo · 26 Nov 14:05"


def test_the_time_formats() -> None:
    now = FIXED_NOW
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(when, "now", lambda: now)
        patch.setenv("TZ", "UTC")
        import time

        time.tzset()
        try:
            assert when.stamp(now) == "14:05"
            assert when.stamp(now - DAY) == "2 Dec 14:05"
            assert when.stamp(now - 400 * DAY) == "29 Oct 2024 14:05"
            assert [when.day_label(now - d * DAY) for d in (0, 1, 2)] == ["Today", "Yesterday", "Mon 1 Dec"]
        finally:
            patch.delenv("TZ")
            time.tzset()


# -- the chat list ---------------------------------------------------------------------------
async def test_the_chat_list_groups_by_day_and_lists_run_chats_apart(
    db_path: Path, fixed_clock: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed_days(db_path, monkeypatch)
    async with chat_app(db_path, WIDE) as (_app, pilot, screen):
        await pilot.pause()
        prompts = _prompts(screen.query_one(ChatList))
        assert prompts == [
            "Today",
            "This morning\n09:05 · Echo",
            "Yesterday",
            "Yesterday's chat\n14:05 · Echo",
            "Wed 26 Nov",
            "Last week's plan\n14:05 · Echo",
            f"{RUN_GROUP} (2)",
            "scripted two\n14:04 · Echo",
            "scripted one\n13:05 · Echo",
        ]


# -- reopening the last chat -----------------------------------------------------------------
async def test_the_last_chat_opens_again_and_fresh_starts_anew(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _seed_days(db_path, monkeypatch)
    async with chat_app(db_path, WIDE) as (_app, pilot, screen):
        assert screen.chat is None  # nothing opened before
        await screen.open_chat(ids["Yesterday's chat"])
        await until(pilot, lambda: screen.title == "Yesterday's chat")
    async with chat_app(db_path, WIDE) as (_app, pilot, screen):
        assert screen.chat is not None and screen.chat.id == ids["Yesterday's chat"]
        assert screen.query_one(UserMessage).text == "about Yesterday's chat"
        # Opened before the models were listed, its reply names the model once they are.
        await until(pilot, lambda: str(screen.query_one(ReplyView).query_one(".model", Static).render()).startswith("Echo · "))
        assert screen.query_one(Prompt).has_focus
    app = TuichatApp(db_path, fresh=True)  # `tuichat --new`
    async with app.run_test(size=WIDE) as pilot:
        screen = await ready(pilot)
        assert screen.chat is None and screen.query(Welcome)


# -- by keyboard -----------------------------------------------------------------------------
async def test_f2_shows_and_focuses_the_chat_list_down_and_enter_open_esc_leaves(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _seed_days(db_path, monkeypatch)
    async with chat_app(db_path, (80, 24)) as (_app, pilot, screen):  # narrow: the list starts hidden
        chats = screen.query_one(ChatList)
        assert not chats.display
        await pilot.press("f2")
        await until(pilot, lambda: chats.display and chats.has_focus)
        await pilot.press("down", "down", "enter")  # (the day headings are skipped)
        await until(pilot, lambda: screen.chat is not None and screen.chat.id == ids["Yesterday's chat"])
        assert screen.query_one(Prompt).has_focus
        await pilot.press("f2")  # shown, not focused: focused
        await until(pilot, lambda: chats.has_focus)
        await pilot.press("escape")
        await until(pilot, lambda: screen.query_one(Prompt).has_focus)
        assert chats.display
        await pilot.press("f2", "f2")  # focused, then hidden
        await until(pilot, lambda: not chats.display and screen.query_one(Prompt).has_focus)


def _footer_keys(pilot: Pilot[Any]) -> str:
    return screen_lines(pilot.app)[-1]


async def test_a_replys_folds_by_keys_shown_in_the_footer(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        chat = await store.chats.create("Folds", model_id="events")
        question = await store.chats.add_message(chat.id, "user", "show me")
        reply = await store.chats.add_message(
            chat.id, "assistant", "", model_id="events", parent_id=question.id, status="streaming"
        )
        source = {"source": {"name": "the docs"}, "document": ["d"], "metadata": [{"source": "https://x.test"}]}
        await store.chats.save_reply(
            reply.id,
            content="answer",
            reasoning="I thought",
            status="done",
            error=None,
            usage=None,
            extra={"sources": [source]},
            new_events=[],
        )
        await store.settings.set("last_chat", chat.id)
    async with chat_app(db_path, WIDE) as (_app, pilot, screen):
        view = screen.query_one(ReplyView)
        thought = view.query_one("#thought", Collapsible)
        assert thought.collapsed and "t Thought" not in _footer_keys(pilot)
        await pilot.press("tab")  # from the prompt to the conversation
        await until(pilot, lambda: screen.query_one(Conversation).has_focus)
        await until(pilot, lambda: " t Thought " in _footer_keys(pilot) and " s Sources " in _footer_keys(pilot))
        await pilot.press("t")
        assert not thought.collapsed
        await pilot.press("t")
        assert thought.collapsed
        sources = view.get_child_by_id("sources", Static)
        assert "[1] https://x.test" in str(sources.render())
        await pilot.press("s")
        assert str(sources.render()) == "▶ Sources (1)"
        await pilot.press("s")
        assert "[1] https://x.test" in str(sources.render())
        await pilot.press("escape")
        await until(pilot, lambda: screen.query_one(Prompt).has_focus)


# -- pictures --------------------------------------------------------------------------------
async def _settled(pilot: Pilot[Any]) -> None:
    await ready(pilot)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for prompt in chat_screen(pilot.app).query(Prompt):
        prompt.cursor_blink = False
    await pilot.pause()


def test_welcome_80x24(snap_compare: Any, db_path: Path, fixed_clock: float) -> None:
    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=_settled)


def test_chat_list_by_day(snap_compare: Any, db_path: Path, fixed_clock: float, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = asyncio.run(_seed_days(db_path, monkeypatch))

    async def open_one(pilot: Pilot[Any]) -> None:
        screen = await ready(pilot)
        await screen.open_chat(ids["This morning"])
        await _settled(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(100, 30), run_before=open_one)
