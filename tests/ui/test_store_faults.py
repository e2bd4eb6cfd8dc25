"""The chat app when the database will not take a reply: another process holds the write
lock, or the disk is full. Real processes and real files: the lock is held by a second Python
process (`BEGIN IMMEDIATE`), the disk is a small tmpfs filled up (a SQLite page limit where
no tmpfs can be mounted). What the user sees is asserted: the reply streams on and stays on
screen, a notification names the cause and what to do, and the reply is saved once the
database takes it. Also: a message that could not be stored goes back to the prompt, the
next message waits for an unsaved reply, and a reply left by a killed process shows as
interrupted.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from functools import partial
from pathlib import Path

import pytest

from tests.cli_helpers import cli_env
from tests.faults import PAUSING, FullDisk, steady, write_lock
from tests.ui import helpers
from tests.ui.helpers import chat_app, pick, screen_lines, send, with_pipe
from tuichat.runtime import reply_saving
from tuichat.ui.app import TuichatApp
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.prompt import Prompt
from tuichat.ui.widgets.reply_parts import INTERRUPTED

SIZE = (120, 40)
until = partial(helpers.until, timeout=40.0)


def noted(app: TuichatApp, title: str) -> list[str]:
    """The messages of the notifications on screen with this title."""
    return [str(n.message) for n in app._notifications if n.title == title]


def last_reply(db: Path) -> tuple[str, str]:
    """(content, status) of the newest reply, read without taking any lock (WAL readers never
    wait for a writer), so it works while another process holds the write lock."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT content, status FROM message WHERE role = 'assistant' ORDER BY created_at DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else ("", "")


def on_screen(app: TuichatApp) -> str:
    return "\n".join(screen_lines(app))


def words(count: int, size: int = 8) -> str:
    """What `steady(count, gap, size)` streams."""
    return "".join(f"w{i}".ljust(size, ".") + " " for i in range(count)).strip()


@pytest.fixture(autouse=True)
def no_unsaved_replies_left() -> Iterator[None]:
    yield
    leftover = reply_saving.unsaved_replies()
    reply_saving._unsaved.clear()
    assert not leftover, "a test left a reply unsaved"


async def test_a_lock_held_by_another_process_delays_the_save_never_the_reply(db_path: Path, tmp_path: Path) -> None:
    gate = tmp_path / "go-on"
    await with_pipe(db_path, steady(40, 0.05, gate=gate, hold_at=4), "steady")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "steady")
        await send(pilot, screen, "go")
        await until(pilot, lambda: "w3." in on_screen(app))
        with write_lock(db_path) as holder:
            gate.touch()
            # Said while the reply streams: the cause (which process) and what to do.
            await until(pilot, lambda: noted(app, "Reply not saved yet"))
            [message] = noted(app, "Reply not saved yet")
            assert f"is locked by pid {holder.pid} (" in message and "End that process or let it finish" in message
            assert "saved as soon as the database takes it" in message
            # The reply streams to its end and stays on screen, only in memory so far.
            await until(pilot, lambda: not screen.streaming)
            view = screen.query_one(Conversation).replies()[-1]
            assert view.reply.content == words(40) and view.reply.status == "done"
            assert "w39." in on_screen(app)
            content, status = last_reply(db_path)
            assert status == "streaming" and len(content) < len(words(40))
            # The next message waits, and stays in the prompt.
            await pilot.press(*"next", "enter")
            await until(pilot, lambda: noted(app, "Not sent"))
            assert "The last reply is not saved yet" in noted(app, "Not sent")[0]
            assert screen.query_one(Prompt).text == "next"
        # The lock is released: the reply is saved, and the user is told.
        await until(pilot, lambda: noted(app, "Saved"))
        assert last_reply(db_path) == (words(40), "done")
        assert "w39." in on_screen(app)


async def _page_limit(app: TuichatApp, pages: int | None) -> None:
    """Without a tmpfs: SQLite's page limit on the app's own connection fails writes that grow
    the file with SQLITE_FULL, as a full disk does."""
    limit = pages if pages is not None else 1_073_741_823
    await app.store.fetchvalue(f"PRAGMA max_page_count = {limit}")


async def test_a_full_disk_delays_the_save_never_the_reply(tmp_path: Path) -> None:
    disk = FullDisk(tmp_path / "small")
    try:
        db = disk.folder / "t.db" if disk.available() else tmp_path / "t.db"
        gate = tmp_path / "go-on"
        await with_pipe(db, steady(50, 0.04, size=4000, gate=gate, hold_at=3), "big")
        async with chat_app(db, SIZE) as (app, pilot, screen):
            fill: Callable[[], Awaitable[None]]
            free: Callable[[], Awaitable[None]]
            if disk.available():

                async def fill() -> None:
                    # An emptied WAL must grow for the next save, so that save fails; a WAL
                    # with room left from earlier saves would take it on a full disk.
                    while await app.store.fetchvalue("PRAGMA wal_checkpoint(TRUNCATE)") != 0:
                        await pilot.pause(0.01)
                    disk.fill()

                async def free() -> None:
                    disk.free()
            else:
                pages = await app.store.fetchvalue("PRAGMA page_count")
                fill, free = partial(_page_limit, app, pages), partial(_page_limit, app, None)
            await pick(pilot, "big")
            await send(pilot, screen, "go")
            await until(pilot, lambda: "w2." in last_reply(db)[0])
            await fill()
            gate.touch()
            await until(pilot, lambda: noted(app, "Reply not saved yet"))
            [message] = noted(app, "Reply not saved yet")
            assert "is full" in message and "Free some space there" in message, message
            if disk.available():
                assert f"free on {disk.folder}" in message
            await until(pilot, lambda: not screen.streaming)
            view = screen.query_one(Conversation).replies()[-1]
            assert view.reply.content == words(50, 4000) and view.reply.status == "done"
            assert last_reply(db)[1] == "streaming"
            await free()
            await until(pilot, lambda: noted(app, "Saved"))
            assert last_reply(db) == (words(50, 4000), "done")
    finally:
        disk.unmount()


async def test_a_message_the_database_refuses_goes_back_to_the_prompt(db_path: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "echo")
        await app.store.fetchvalue("PRAGMA busy_timeout = 500")  # not 30 s, for the test's sake
        with write_lock(db_path) as holder:
            await pilot.press(*"hello", "enter")
            await until(pilot, lambda: noted(app, "Not sent"))
            [message] = noted(app, "Not sent")
            assert message.startswith("Your message was not sent: ")
            assert f"is locked by pid {holder.pid} (" in message and "then send it again" in message
            assert screen.query_one(Prompt).text == "hello"
            assert not screen.query_one(Conversation).replies()
        await pilot.press("enter")
        await until(pilot, lambda: screen.query_one(Conversation).replies() and not screen.streaming)
        assert last_reply(db_path) == ("hello", "done")


async def test_a_reply_left_by_a_killed_process_shows_as_interrupted(db_path: Path) -> None:
    await with_pipe(db_path, PAUSING, "pausing")
    child = subprocess.Popen(
        [sys.executable, "-m", "tuichat", "--db", str(db_path), "run", "pausing", "think"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=cli_env(),
    )
    try:
        deadline = time.monotonic() + 30
        while "word9" not in last_reply(db_path)[0] if db_path.exists() else True:
            assert time.monotonic() < deadline, "the reply was never saved"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert last_reply(db_path)[1] == "streaming"
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        [chat] = await app.store.chats.list()
        await screen.open_chat(chat.id)
        await until(pilot, lambda: INTERRUPTED in on_screen(app))
        assert "word0 word1" in on_screen(app) and "word9" in on_screen(app)
    assert last_reply(db_path)[1] == "interrupted"


async def test_quitting_mid_reply_saves_it_as_stopped(db_path: Path) -> None:
    await with_pipe(db_path, PAUSING, "pausing")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "pausing")
        await send(pilot, screen, "go")
        await until(pilot, lambda: "word9" in on_screen(app))
        await pilot.press("ctrl+q")
    assert last_reply(db_path) == ("word0 word1 word2 word3 word4 word5 word6 word7 word8 word9", "stopped")
