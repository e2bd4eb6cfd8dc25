"""The SQLite store, against real database files in tmp_path."""

from __future__ import annotations

import asyncio
import getpass
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import platformdirs
import pytest

from tuichat.store import (
    InvalidFunctionId,
    Store,
    StoreError,
    default_db_path,
    function_id_from_filename,
    validate_function_id,
)
from tuichat.store import database as database_module
from tuichat.store.schema import MIGRATIONS, SCHEMA_VERSION, statements

ROOT = Path(__file__).resolve().parents[1]
TABLES = {
    "function",
    "function_user_valves",
    "user",
    "chat",
    "message",
    "message_event",
    "setting",
}
USER_KEYS = [
    "id", "email", "username", "role", "name", "profile_image_url",
    "profile_banner_image_url", "bio", "gender", "date_of_birth", "timezone",
    "presence_state", "status_emoji", "status_message", "status_expires_at",
    "info", "settings", "oauth", "scim", "last_active_at", "updated_at", "created_at",
]  # fmt: skip


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tuichat.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    async with await Store.open(db_path) as opened:
        yield opened


async def make_db(path: Path) -> None:
    """A migrated database holding one function, then closed."""
    async with await Store.open(path) as store:
        await store.functions.insert("kept", name="Kept", type="pipe", content="x = 1")


def raw_value(path: Path, sql: str) -> object:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchone()[0]


# -- opening and migrations ------------------------------------------------------------


async def test_new_database_is_migrated_to_current_schema(
    store: Store, db_path: Path
) -> None:
    tables = {
        row["name"]
        for row in await store.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert tables >= TABLES
    assert await store.fetchvalue("PRAGMA user_version") == SCHEMA_VERSION
    assert await store.fetchvalue("PRAGMA journal_mode") == "wal"
    assert await store.fetchvalue("PRAGMA foreign_keys") == 1
    assert await store.fetchvalue("PRAGMA busy_timeout") == 30_000
    assert db_path.is_file()


async def test_reopening_changes_nothing(db_path: Path) -> None:
    await make_db(db_path)
    schema_sql = "SELECT group_concat(sql, ';') FROM sqlite_master"
    before = (raw_value(db_path, schema_sql), raw_value(db_path, "SELECT id FROM user"))
    async with await Store.open(db_path) as store:
        assert await store.fetchvalue("PRAGMA user_version") == SCHEMA_VERSION
        assert await store.fetchvalue("SELECT count(*) FROM user") == 1
        assert (await store.functions.get("kept")) is not None
    assert (
        raw_value(db_path, schema_sql),
        raw_value(db_path, "SELECT id FROM user"),
    ) == before


async def test_newer_schema_is_refused_and_left_untouched(db_path: Path) -> None:
    await make_db(db_path)
    with sqlite3.connect(db_path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    original = db_path.read_bytes()
    with pytest.raises(StoreError, match="newer tuichat") as info:
        await Store.open(db_path)
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == original


async def test_v9_events_are_kept_by_the_move_to_a_rowid_table(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path, isolation_level=None) as conn:
        conn.execute("BEGIN")
        for script in MIGRATIONS[:9]:
            for statement in statements(script):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 9")
        conn.execute("INSERT INTO chat (id, title, created_at, updated_at) VALUES ('c', 'Chat', 1, 1)")
        conn.execute(
            "INSERT INTO message (id, chat_id, role, content, created_at, updated_at, status)"
            " VALUES ('m', 'c', 'assistant', 'hi', 1, 1, 'done')"
        )
        conn.executemany(
            "INSERT INTO message_event (message_id, seq, at, data) VALUES ('m', ?, ?, ?)",
            [(seq, seq / 2, f'{{"n": {seq}}}') for seq in (2, 0, 1)],
        )
        conn.execute("COMMIT")
    conn.close()
    async with await Store.open(db_path) as store:
        assert await store.chats.events("m") == [(0.0, {"n": 0}), (0.5, {"n": 1}), (1.0, {"n": 2})]
        assert await store.fetchvalue("SELECT count(*) FROM sqlite_master WHERE name = 'message_event_v10'") == 0
        # The index answers the reply's next position, and a repeated save replaces in place.
        await store.chats.save_reply("m", content="hi", reasoning=None, status="done", error=None, usage=None,
                                     extra={}, new_events=[(1.0, {"n": 2}), (1.5, {"n": 3})], first_seq=2)
        assert [data["n"] for _, data in await store.chats.events("m")] == [0, 1, 2, 3]
        assert await store.chats.delete("c")
        assert await store.fetchvalue("SELECT count(*) FROM message_event") == 0


async def test_failed_migration_leaves_database_as_it_was(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_db(db_path)
    # A v2 whose second statement fails: its first must not survive either.
    broken = (*MIGRATIONS, "CREATE TABLE added (a); CREATE TABLE function (a);")
    monkeypatch.setattr(database_module, "MIGRATIONS", broken)
    monkeypatch.setattr(database_module, "SCHEMA_VERSION", len(broken))
    with pytest.raises(StoreError, match="already exists"):
        await Store.open(db_path)
    assert raw_value(db_path, "PRAGMA user_version") == SCHEMA_VERSION
    assert (
        raw_value(db_path, "SELECT count(*) FROM sqlite_master WHERE name = 'added'")
        == 0
    )
    assert raw_value(db_path, "SELECT name FROM function") == "Kept"


async def test_directory_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder") as info:
        await Store.open(tmp_path)
    assert str(tmp_path) in str(info.value)
    assert list(tmp_path.iterdir()) == []


async def test_parent_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Cannot create the folder") as info:
        await Store.open(blocker / "tuichat.db")
    assert str(blocker) in str(info.value)
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("garbage", [b"hello", b"this is not a database\n" * 200])
async def test_non_sqlite_file_is_refused_and_left_untouched(
    db_path: Path, garbage: bytes
) -> None:
    db_path.parent.mkdir()
    db_path.write_bytes(garbage)
    with pytest.raises(StoreError, match="not an SQLite database") as info:
        await Store.open(db_path)
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == garbage
    assert sorted(p.name for p in db_path.parent.iterdir()) == [db_path.name]


async def test_other_apps_sqlite_database_is_left_untouched(db_path: Path) -> None:
    db_path.parent.mkdir()
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
    original = db_path.read_bytes()
    with pytest.raises(StoreError, match="not a tuichat one") as info:
        await Store.open(db_path)
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == original


async def test_read_only_file_and_folder_are_refused(db_path: Path) -> None:
    await make_db(db_path)
    original = db_path.read_bytes()
    db_path.chmod(0o444)
    db_path.parent.chmod(0o555)
    try:
        if os.access(db_path, os.W_OK):
            pytest.skip(
                "file permissions do not stop this user (root) from writing; "
                "test_readonly_open_refuses_writes covers read-only access for everyone"
            )
        with pytest.raises(StoreError, match="read-only") as info:
            await Store.open(db_path)
        assert str(db_path) in str(info.value)
        # The read-only mode still works on the protected file.
        async with await Store.open(db_path, readonly=True) as store:
            assert (await store.functions.get("kept")) is not None
    finally:
        db_path.parent.chmod(0o755)
        db_path.chmod(0o644)
    assert db_path.read_bytes() == original


async def test_read_only_folder_is_refused(db_path: Path) -> None:
    await make_db(db_path)
    original = db_path.read_bytes()
    db_path.parent.chmod(0o555)
    try:
        if os.access(db_path.parent, os.W_OK):
            pytest.skip("folder permissions do not stop this user (root) from writing")
        with pytest.raises(StoreError, match=r"folder .* is read-only") as info:
            await Store.open(db_path)
        assert str(db_path) in str(info.value)
    finally:
        db_path.parent.chmod(0o755)
    assert db_path.read_bytes() == original


async def test_readonly_open_refuses_writes(db_path: Path) -> None:
    await make_db(db_path)
    original = db_path.read_bytes()
    async with await Store.open(db_path, readonly=True) as store:
        assert (await store.functions.get("kept")) is not None
        assert (await store.users.local())["role"] == "admin"
        for write in (
            store.settings.set("key", 1),
            store.chats.create("new chat"),
            store.functions.update("kept", content="changed"),
        ):
            with pytest.raises(StoreError, match="read-only") as info:
                await write
            assert str(db_path) in str(info.value)
        kept = await store.functions.get("kept")
        assert kept is not None
        assert kept.content == "x = 1"
    assert db_path.read_bytes() == original


async def test_readonly_open_needs_an_existing_current_database(db_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        await Store.open(db_path, readonly=True)
    db_path.parent.mkdir()
    db_path.write_bytes(b"")
    with pytest.raises(StoreError, match="needs upgrading") as info:
        await Store.open(db_path, readonly=True)
    assert str(db_path) in str(info.value)
    assert db_path.read_bytes() == b""


async def test_closed_store_raises_store_error(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    await store.close()  # closing twice is harmless
    with pytest.raises(StoreError, match="closed"):
        await store.settings.get("anything")


def test_default_db_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUICHAT_DB", str(tmp_path / "custom.db"))
    assert default_db_path() == tmp_path / "custom.db"
    monkeypatch.setenv("TUICHAT_DB", "~/chats.db")
    assert default_db_path() == Path.home() / "chats.db"
    monkeypatch.delenv("TUICHAT_DB")
    assert (
        default_db_path() == Path(platformdirs.user_data_dir("tuichat")) / "tuichat.db"
    )


# -- transactions ----------------------------------------------------------------------


async def test_transaction_rollback_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with store.transaction():
            chat = await store.chats.create("doomed")
            await store.chats.add_message(chat.id, "user", "hello")
            await store.functions.insert("doomed", name="D", type="pipe", content="")
            await store.settings.set("doomed", True)
            raise RuntimeError("boom")
    assert await store.chats.list() == []
    assert await store.fetchvalue("SELECT count(*) FROM message") == 0
    assert await store.functions.count() == 0
    assert await store.settings.get("doomed") is None


async def test_nested_transaction_joins_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction():
            async with store.transaction():
                await store.settings.set("inner", 1)
            # The inner block's exit must not have committed.
            raise RuntimeError
    assert await store.settings.get("inner") is None
    async with store.transaction():
        async with store.transaction():
            await store.settings.set("inner", 2)
    assert await store.settings.get("inner") == 2


async def test_tasks_never_share_a_transaction(store: Store) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def doomed() -> None:
        async with store.transaction():
            await store.settings.set("doomed", 1)
            inside.set()
            await release.wait()
            raise RuntimeError("boom")

    async def bystander() -> None:
        await inside.wait()
        await store.settings.set("bystander", 2)

    doomed_task = asyncio.create_task(doomed())
    bystander_task = asyncio.create_task(bystander())
    await inside.wait()
    await asyncio.sleep(0.05)
    # It waits for the other task's transaction to end instead of joining it.
    assert not bystander_task.done()
    release.set()
    with pytest.raises(RuntimeError, match="boom"):
        await doomed_task
    await bystander_task
    assert await store.settings.get("doomed") is None
    assert await store.settings.get("bystander") == 2


async def test_cancelled_transaction_rolls_back(store: Store) -> None:
    started = asyncio.Event()

    async def stopped_mid_write() -> None:
        async with store.transaction():
            await store.settings.set("half", 1)
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stopped_mid_write())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.settings.get("half") is None
    await store.settings.set("after", 2)
    assert await store.settings.get("after") == 2


async def test_cancelled_while_waiting_for_the_write_lock(
    store: Store, db_path: Path
) -> None:
    other_process = sqlite3.connect(db_path, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    try:
        task = asyncio.create_task(store.settings.set("late", 1))
        await asyncio.sleep(0.2)  # now blocked in BEGIN IMMEDIATE (busy_timeout)
        task.cancel()
    finally:
        other_process.execute("COMMIT")
        other_process.close()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The BEGIN that ran after the cancel was rolled back: the store still works.
    await store.settings.set("after", 2)
    assert await store.settings.get("after") == 2
    assert await store.settings.get("late") is None


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from tuichat.store import Store

    async def main(db: str, tag: str, go: str) -> None:
        while not Path(go).exists():
            await asyncio.sleep(0.005)
        async with await Store.open(db) as store:
            chat = await store.chats.create(tag)
            for i in range(200):
                await store.chats.add_message(chat.id, "user", f"{tag}-{i}")

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_two_processes_write_concurrently_without_locking_errors(
    db_path: Path,
) -> None:
    go = db_path.parent.parent / "go"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), tag, str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    await asyncio.sleep(0.3)  # let both start, so they also race to create the database
    go.touch()
    results = [
        await asyncio.to_thread(writer.communicate, timeout=60) for writer in writers
    ]
    for writer, (_, stderr) in zip(writers, results, strict=True):
        assert writer.returncode == 0, stderr
        assert "locked" not in stderr
    async with await Store.open(db_path) as store:
        assert await store.fetchvalue("SELECT count(*) FROM message") == 400
        assert await store.fetchvalue("SELECT count(*) FROM user") == 1
        for chat in await store.chats.list():
            contents = [m.content for m in await store.chats.messages(chat.id)]
            assert contents == [f"{chat.title}-{i}" for i in range(200)]


# -- functions -------------------------------------------------------------------------


async def test_function_insert_and_get_round_trip(store: Store) -> None:
    meta = {
        "description": "Echo ✓",
        "manifest": {"title": "Echo", "requirements": ["a", "b"]},
    }
    valves = {"API_KEY": "k", "N": 3, "nested": {"on": True, "none": None}}
    inserted = await store.functions.insert(
        "Echo_Pipe",
        name="Echo",
        type="pipe",
        content="class Pipe: ...",
        meta=meta,
        valves=valves,
        is_active=False,
        is_global=True,
        user_id="u1",
    )
    fetched = await store.functions.get("echo_pipe")
    assert fetched == inserted
    assert inserted.id == "echo_pipe"  # lower-cased like Open WebUI
    assert (inserted.meta, inserted.valves) == (meta, valves)
    assert inserted.is_active is False and inserted.is_global is True
    assert inserted.user_id == "u1" and inserted.load_error is None
    assert (
        inserted.created_at == inserted.updated_at
        and abs(inserted.created_at - time.time()) < 5
    )
    assert await store.functions.get("missing") is None


async def test_function_defaults(store: Store) -> None:
    row = await store.functions.insert("f", name="F", type="filter", content="")
    assert row.meta == {"description": None, "manifest": {}}
    assert row.valves == {}
    assert (row.is_active, row.is_global) == (True, False)


async def test_function_insert_refuses_duplicates_and_bad_input(store: Store) -> None:
    await store.functions.insert("dup", name="First", type="pipe", content="first")
    with pytest.raises(StoreError, match="--id") as info:
        await store.functions.insert(
            "DUP", name="Second", type="pipe", content="second"
        )
    assert "already exists" in str(info.value)
    with pytest.raises(InvalidFunctionId):
        await store.functions.insert("my.pipe", name="X", type="pipe", content="")
    with pytest.raises(ValueError, match="Function type"):
        await store.functions.insert("t", name="X", type="model", content="")  # type: ignore[arg-type]
    assert [f.content for f in await store.functions.list()] == ["first"]


async def test_function_list_order_and_filters(store: Store) -> None:
    await store.functions.insert("c_first", name="C", type="pipe", content="")
    await store.functions.insert(
        "a_second", name="A", type="filter", content="", is_active=False
    )
    await store.functions.insert("b_third", name="B", type="pipe", content="")
    assert [f.id for f in await store.functions.list()] == [
        "c_first",
        "a_second",
        "b_third",
    ]
    assert [f.id for f in await store.functions.list(type="pipe")] == [
        "c_first",
        "b_third",
    ]
    assert [f.id for f in await store.functions.list(active_only=True)] == [
        "c_first",
        "b_third",
    ]
    assert await store.functions.list(type="action") == []
    assert await store.functions.count() == 3


async def test_function_update_and_setters(store: Store) -> None:
    await store.functions.insert("f", name="F", type="pipe", content="old")
    await store.execute("UPDATE function SET updated_at = 0 WHERE id = 'f'")
    updated = await store.functions.update(
        "f", content="new", name="G", meta={"description": "d"}
    )
    assert (updated.content, updated.name, updated.meta) == (
        "new",
        "G",
        {"description": "d"},
    )
    assert updated.updated_at > 0
    assert (await store.functions.set_active("f", False)).is_active is False
    assert (
        await store.functions.set_error("f", "SyntaxError: boom")
    ).load_error == "SyntaxError: boom"
    assert (await store.functions.set_error("f", None)).load_error is None
    await store.functions.set_valves("f", {"x": [1, 2]})
    assert await store.functions.get_valves("f") == {"x": [1, 2]}


async def test_function_update_refusals_change_nothing(store: Store) -> None:
    before = await store.functions.insert("f", name="F", type="pipe", content="c")
    with pytest.raises(TypeError, match="created_at"):
        await store.functions.update("f", created_at=1)
    with pytest.raises(TypeError, match="str"):
        await store.functions.update("f", content="new", name=None)
    with pytest.raises(StoreError, match="No function"):
        await store.functions.update("nope", content="x")
    with pytest.raises(StoreError, match="No function"):
        await store.functions.get_valves("nope")
    assert await store.functions.get("f") == before


async def test_function_user_valves_and_cascade_delete(store: Store) -> None:
    await store.functions.insert("f", name="F", type="pipe", content="")
    assert await store.functions.get_user_valves("f", "u1") == {}
    await store.functions.set_user_valves("f", "u1", {"mode": "a"})
    await store.functions.set_user_valves("f", "u1", {"mode": "b"})
    await store.functions.set_user_valves("f", "u2", {"mode": "c"})
    assert await store.functions.get_user_valves("f", "u1") == {"mode": "b"}
    assert await store.functions.get_user_valves("f", "u2") == {"mode": "c"}
    with pytest.raises(StoreError, match="No function"):
        await store.functions.set_user_valves("nope", "u1", {})
    assert await store.functions.delete("f") is True
    assert await store.functions.delete("f") is False
    assert await store.fetchvalue("SELECT count(*) FROM function_user_valves") == 0


# -- chats, messages, events -----------------------------------------------------------


async def test_chat_create_get_update_and_list_order(store: Store) -> None:
    first = await store.chats.create(
        "First", model_id="m1", system_prompt="Be brief", params={"temperature": 0.2}
    )
    second = await store.chats.create("Second", stream=False)
    assert await store.chats.get(first.id) == first
    assert (first.model_id, first.system_prompt, first.stream, first.params) == (
        "m1",
        "Be brief",
        True,
        {"temperature": 0.2},
    )
    assert second.stream is False and second.params == {}
    await store.execute("UPDATE chat SET updated_at = 100 WHERE id = ?", (first.id,))
    await store.execute("UPDATE chat SET updated_at = 200 WHERE id = ?", (second.id,))
    assert [c.id for c in await store.chats.list()] == [second.id, first.id]
    renamed = await store.chats.rename(first.id, "Renamed")
    assert renamed.title == "Renamed" and renamed.updated_at > 200
    assert [c.id for c in await store.chats.list()] == [first.id, second.id]
    assert [c.id for c in await store.chats.list(limit=1)] == [first.id]
    updated = await store.chats.update(
        second.id, stream=True, params={"seed": 1}, model_id=None
    )
    assert (updated.stream, updated.params, updated.model_id) == (
        True,
        {"seed": 1},
        None,
    )
    with pytest.raises(TypeError, match="created_at"):
        await store.chats.update(second.id, created_at=0)
    with pytest.raises(StoreError, match="No chat"):
        await store.chats.rename("missing", "x")


async def test_messages_round_trip_in_order(store: Store) -> None:
    chat = await store.chats.create("Chat")
    await store.execute("UPDATE chat SET updated_at = 0 WHERE id = ?", (chat.id,))
    question = await store.chats.add_message(chat.id, "user", "Hi ✓")
    answer = await store.chats.add_message(
        chat.id,
        "assistant",
        "",
        model_id="echo",
        parent_id=question.id,
        status="streaming",
    )
    more = [await store.chats.add_message(chat.id, "user", str(i)) for i in range(30)]
    messages = await store.chats.messages(chat.id)
    assert [m.id for m in messages] == [question.id, answer.id, *(m.id for m in more)]
    created = [m.created_at for m in messages]
    # Strictly increasing, even within one tick of a coarse clock.
    assert created == sorted(set(created))
    assert await store.chats.get_message(answer.id) == answer
    assert (
        answer.parent_id,
        answer.model_id,
        answer.status,
        answer.extra,
        answer.usage,
    ) == (question.id, "echo", "streaming", {}, None)
    assert question.content == "Hi ✓" and question.status == "done"
    bumped = await store.chats.get(chat.id)
    assert bumped is not None
    assert bumped.updated_at > 0  # adding a message marks the chat as updated


async def test_add_message_refusals_store_nothing(store: Store) -> None:
    chat = await store.chats.create("Chat")
    other = await store.chats.create("Other")
    foreign = await store.chats.add_message(other.id, "user", "elsewhere")
    with pytest.raises(StoreError, match="No chat"):
        await store.chats.add_message("missing", "user", "x")
    with pytest.raises(StoreError, match="not in chat"):
        await store.chats.add_message(chat.id, "assistant", "x", parent_id=foreign.id)
    with pytest.raises(ValueError, match="role"):
        await store.chats.add_message(chat.id, "robot", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status"):
        await store.chats.add_message(chat.id, "user", "x", status="lost")  # type: ignore[arg-type]
    assert await store.chats.messages(chat.id) == []


async def test_save_reply_appends_events_with_increasing_seq(store: Store) -> None:
    chat = await store.chats.create("Chat")
    reply = await store.chats.add_message(chat.id, "assistant", "", status="streaming")
    first = [
        (0.01, {"event": {"type": "status", "data": {"description": "Thinking"}}}),
        (0.02, {"call": {"type": "input"}, "reply": "yes"}),
    ]
    assert await store.chats.save_reply(
        reply.id,
        content="Hel",
        reasoning="hmm",
        status="streaming",
        error=None,
        usage=None,
        extra={"statuses": [1]},
        new_events=first,
    )
    later = [(1.5, {"event": {"type": "message", "data": {"content": "lo"}}})]
    assert await store.chats.save_reply(
        reply.id,
        content="Hello",
        reasoning="hmm!",
        status="done",
        error=None,
        usage={"total_tokens": 5},
        extra={"statuses": [1, 2]},
        new_events=later,
    )
    assert await store.chats.save_reply(
        reply.id,
        content="Hello",
        reasoning="hmm!",
        status="done",
        error=None,
        usage={"total_tokens": 5},
        extra={"statuses": [1, 2]},
    )
    assert await store.chats.events(reply.id) == [*first, *later]
    seqs = [
        row[0]
        for row in await store.fetchall("SELECT seq FROM message_event ORDER BY seq")
    ]
    assert seqs == [0, 1, 2]
    saved = await store.chats.get_message(reply.id)
    assert saved is not None
    assert (saved.content, saved.reasoning, saved.status, saved.usage, saved.extra) == (
        "Hello",
        "hmm!",
        "done",
        {"total_tokens": 5},
        {"statuses": [1, 2]},
    )
    assert saved.updated_at >= saved.created_at


async def test_save_reply_keeps_events_json_cannot_encode(store: Store) -> None:
    chat = await store.chats.create("Chat")
    reply = await store.chats.add_message(chat.id, "assistant", "", status="streaming")
    odd = object()
    assert await store.chats.save_reply(
        reply.id,
        content="",
        reasoning=None,
        status="error",
        error="Boom",
        usage=None,
        extra={},
        new_events=[(0.5, {"event": {"data": odd}})],
    )
    assert await store.chats.events(reply.id) == [(0.5, {"event": {"data": str(odd)}})]
    saved = await store.chats.get_message(reply.id)
    assert saved is not None
    assert saved.error == "Boom"


def bytes_read() -> int:
    """Bytes this process has read from files so far (Linux: /proc/self/io, all threads)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="counts reads with /proc/self/io")
async def test_saving_events_beside_a_huge_one_does_not_read_it(store: Store) -> None:
    """The soak's stuck reply: a call record holding an 8 MB history was stored as an event,
    and every event then saved for the reply whose id sorts just before it read those 8 MB
    again (a WITHOUT ROWID table compares its keys by whole row), so 10,000 events took a
    minute with the write lock held. Counted in bytes read, not timed."""
    chat = await store.chats.create("Chat")
    replies = [await store.chats.add_message(chat.id, "assistant", "", status="streaming") for _ in range(2)]
    before, after = sorted(replies, key=lambda message: message.id)
    huge = {"request": {"body": {"messages": [{"role": "assistant", "content": "flood " * 1_400_000}]}}}
    fields = {"reasoning": None, "error": None, "usage": None, "extra": {}}
    assert await store.chats.save_reply(after.id, content="", status="done", **fields, new_events=[(0.0, huge)])
    read = bytes_read()
    events = [(i / 10, {"event": {"type": "status", "data": {"description": f"step {i}"}}}) for i in range(50)]
    assert await store.chats.save_reply(before.id, content="x", status="done", **fields, new_events=events)
    # Before the fix this read the 8 MB event about once per event saved (hundreds of MB).
    assert bytes_read() - read < 2_000_000
    assert await store.chats.events(before.id) == events
    assert (await store.chats.events(after.id))[0][1] == huge


async def test_deleting_a_chat_removes_messages_and_events(store: Store) -> None:
    chat = await store.chats.create("Chat")
    kept = await store.chats.create("Kept")
    question = await store.chats.add_message(chat.id, "user", "q")
    reply = await store.chats.add_message(
        chat.id, "assistant", "", parent_id=question.id
    )
    await store.chats.add_message(kept.id, "user", "stays")
    await store.chats.save_reply(
        reply.id,
        content="a",
        reasoning=None,
        status="done",
        error=None,
        usage=None,
        extra={},
        new_events=[(0.1, {"event": {}})],
    )
    assert await store.chats.delete(chat.id) is True
    assert await store.chats.delete(chat.id) is False
    assert await store.chats.get(chat.id) is None
    assert await store.fetchvalue("SELECT count(*) FROM message") == 1
    assert await store.fetchvalue("SELECT count(*) FROM message_event") == 0
    # A reply still streaming into a deleted chat is told so instead of failing.
    assert not await store.chats.save_reply(
        reply.id,
        content="b",
        reasoning=None,
        status="done",
        error=None,
        usage=None,
        extra={},
        new_events=[(0.2, {"event": {}})],
    )


# -- user and settings -----------------------------------------------------------------


async def test_local_user_is_created_once_with_open_webui_fields(db_path: Path) -> None:
    async with await Store.open(db_path) as store:
        user = await store.users.local()
    assert list(user) == USER_KEYS
    assert len(user["id"]) == 32 and int(user["id"], 16) >= 0
    assert (user["role"], user["profile_image_url"]) == ("admin", "/user.png")
    assert user["name"] in {getpass.getuser(), "User"}
    assert user["info"] is None and user["settings"] is None and user["bio"] is None
    assert user["created_at"] == user["updated_at"] == user["last_active_at"]
    async with await Store.open(db_path) as store:
        assert await store.users.local() == user
        assert await store.fetchvalue("SELECT count(*) FROM user") == 1


async def test_settings_round_trip(store: Store) -> None:
    assert await store.settings.get("last_model") is None
    assert await store.settings.get("last_model", "fallback") == "fallback"
    await store.settings.set("last_model", "echo")
    await store.settings.set("examples_seeded", True)
    await store.settings.set("nested", {"a": [1, 2.5, None, "é"]})
    await store.settings.set("last_model", "other")
    assert await store.settings.get("last_model") == "other"
    assert await store.settings.get("examples_seeded") is True
    assert await store.settings.get("nested") == {"a": [1, 2.5, None, "é"]}


# -- function ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("my_pipe", "my_pipe"),
        ("MyPipe2", "mypipe2"),
        ("_private", "_private"),
        ("café", "café"),
    ],
)
def test_validate_function_id_accepts_and_lower_cases(raw: str, expected: str) -> None:
    assert validate_function_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "suggestion"),
    [
        ("my.pipe", "my_pipe"),
        ("my-pipe", "my_pipe"),
        ("2fast", "pipe_2fast"),
        ("", "pipe"),
        ("a b", "a_b"),
    ],
)
def test_validate_function_id_refuses_with_a_suggestion(
    raw: str, suggestion: str
) -> None:
    with pytest.raises(InvalidFunctionId) as info:
        validate_function_id(raw)
    assert isinstance(info.value, ValueError)
    assert repr(suggestion) in str(info.value)
    assert validate_function_id(suggestion) == suggestion


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("My-Pipe.v2", "my_pipe_v2"),
        ("echo", "echo"),
        ("--weird__  name--", "weird_name"),
        ("2024 report", "pipe_2024_report"),
        ("___", "pipe"),
        ("", "pipe"),
        ("Ünïcode Pipe", "ünïcode_pipe"),
        ("a.b.c", "a_b_c"),
    ],
)
def test_function_id_from_filename(stem: str, expected: str) -> None:
    assert function_id_from_filename(stem) == expected
    assert validate_function_id(expected) == expected
