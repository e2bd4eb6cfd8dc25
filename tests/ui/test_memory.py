"""Memory after a reply and a chat: what a closed chat held is freed, and freed heap given back."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from tests.ui.helpers import chat_app, chat_with, until, with_pipe
from tuichat import heap
from tuichat.ui.widgets.welcome import Welcome

SIZE = (100, 30)

LARGE = '''
class Pipe:
    def pipe(self, body):
        return ("x" * 99 + "\\n") * 11_000  # 1.1 MB: a flood the app gives back after
'''

SMALL = '''
class Pipe:
    def pipe(self, body):
        return "a short answer"
'''


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every heap trim the app makes, recorded instead of made."""
    made: list[str] = []
    monkeypatch.setattr(heap, "trim", lambda: made.append("trim"))
    return made


async def test_a_new_chat_frees_the_reply_shown_without_help(db_path: Path, trims: list[str]) -> None:
    """The selected reply and the screen's last layout named the chat replaced when it was
    collected: it was frozen with the new chat instead (no collection by the test here)."""
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        view = await chat_with(pilot, screen, "echo", "hello")
        gone = weakref.ref(view)
        del view
        await pilot.press("ctrl+n")
        await until(pilot, lambda: bool(screen.query(Welcome)), timeout=60)
        try:
            await until(pilot, lambda: gone() is None and bool(trims))  # the pages went back to the system
        finally:
            gc.unfreeze()


async def test_the_heap_is_trimmed_after_a_large_reply_not_a_small_one(db_path: Path, trims: list[str]) -> None:
    await with_pipe(db_path, LARGE, "large")
    await with_pipe(db_path, SMALL, "small")
    async with chat_app(db_path, SIZE) as (_app, pilot, screen):
        await pilot.pause(0.2)
        trims.clear()  # the first chat shown
        await chat_with(pilot, screen, "small", "small")
        await pilot.pause(0.2)
        assert trims == []
        view = await chat_with(pilot, screen, "large", "flood")
        assert len(view.reply.content) > 1_000_000
        await until(pilot, lambda: trims == ["trim"], timeout=60)
