"""The store's synchronous access (`tuichat.store.sync`), against real database files.

It is the same store by another path: what it reads is what the async repositories
read, what it writes they see at once, and the local user is the same user.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import pytest

from tuichat.store import Store, StoreError
from tuichat.store.sync import SyncStore
from tuichat.store.sync.connection import SyncDatabase
from tuichat.store.users import USER_FIELDS

PIPE = "class Pipe:\n    def pipe(self, body):\n        return 'x'\n"


@pytest.fixture
def tables(store: Store) -> SyncStore:
    return SyncStore(store.path)


def add_user(path: Path, *, created_at: int, email: str) -> str:
    """Another row in `user` (tuichat never makes one), straight through sqlite3."""
    user_id = uuid.uuid4().hex
    values = dict.fromkeys(USER_FIELDS) | {
        "id": user_id,
        "email": email,
        "role": "user",
        "name": email,
        "last_active_at": created_at,
        "updated_at": created_at,
        "created_at": created_at,
    }
    with sqlite3.connect(path) as conn:
        conn.execute(
            f"INSERT INTO user ({', '.join(USER_FIELDS)}) VALUES ({', '.join('?' * len(USER_FIELDS))})",
            [values[field] for field in USER_FIELDS],
        )
    conn.close()
    return user_id


# -- reading ------------------------------------------------------------------------------


async def test_reads_what_the_async_repositories_read(store: Store, tables: SyncStore) -> None:
    await store.functions.insert("p", name="P", type="pipe", content=PIPE, valves={"N": 1})
    await store.functions.insert("f", name="F", type="filter", content="x", is_active=False)
    chat = await store.chats.create("Hello", model_id="p", params={"temperature": 0.5})
    await store.chats.add_message(chat.id, "user", "hi")
    await store.chats.add_message(chat.id, "assistant", "hey", model_id="p")

    assert tables.users.local() == await store.users.local()
    assert tables.functions.get("p") == await store.functions.get("p")
    assert tables.functions.get("ghost") is None
    assert tables.functions.list() == await store.functions.list()
    assert tables.functions.list("pipe", active_only=True) == await store.functions.list("pipe", active_only=True)
    assert tables.functions.valves("p") == {"N": 1} and tables.functions.valves("ghost") is None
    assert tables.chats.get(chat.id) == await store.chats.get(chat.id)
    assert tables.chats.recent() == await store.chats.list()
    assert tables.chats.messages(chat.id) == await store.chats.messages(chat.id)


async def test_the_local_user_is_the_one_the_async_store_gives(store: Store, tables: SyncStore) -> None:
    local = await store.users.local()
    add_user(store.path, created_at=local["created_at"] + 10, email="later@x")
    add_user(store.path, created_at=local["created_at"], email="same-time@x")  # ties go by rowid
    assert tables.users.local() == await store.users.local() == local

    earlier = add_user(store.path, created_at=local["created_at"] - 10, email="earlier@x")
    assert tables.users.local_id() == earlier == (await store.users.local())["id"]
    assert [user["email"] for user in tables.users.all()] == ["earlier@x", "admin@localhost", "same-time@x", "later@x"]


# -- writing ------------------------------------------------------------------------------


async def test_writes_are_seen_by_the_async_store_at_once(store: Store, tables: SyncStore) -> None:
    await store.functions.insert("p", name="P", type="pipe", content=PIPE)
    chat = await store.chats.create("Untitled")
    uid = (await store.users.local())["id"]

    assert tables.functions.set_valves("p", {"N": 2}) and not tables.functions.set_valves("ghost", {})
    assert tables.functions.set_user_valves("p", uid, {"K": "v"})
    assert not tables.functions.set_user_valves("ghost", uid, {"K": "v"})
    assert tables.chats.rename(chat.id, "Greeting") and not tables.chats.rename("ghost", "x")
    tables.users.merge_settings(uid, {"ui": {"theme": "dark"}})

    assert await store.functions.get_valves("p") == {"N": 2}
    assert await store.functions.get_user_valves("p", uid) == {"K": "v"} == tables.functions.user_valves("p", uid)
    assert (await store.chats.get(chat.id)).title == "Greeting"  # type: ignore[union-attr]
    assert (await store.users.local())["settings"] == {"ui": {"theme": "dark"}}


async def test_a_write_takes_the_write_lock_first_and_waits_for_it(store: Store, tables: SyncStore) -> None:
    """BEGIN IMMEDIATE: a write waits (busy timeout) while another connection holds the
    lock, rather than failing half-way, then goes through."""
    uid = (await store.users.local())["id"]
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    done = threading.Event()
    thread = threading.Thread(target=lambda: (tables.users.update(uid, {"name": "Ada"}), done.set()))
    thread.start()
    try:
        assert not done.wait(0.3)  # still waiting for the lock
    finally:
        holder.execute("COMMIT")
        holder.close()
    thread.join(10)
    assert done.is_set() and (await store.users.local())["name"] == "Ada"


async def test_a_write_that_fails_changes_nothing(store: Store, tables: SyncStore) -> None:
    uid = (await store.users.local())["id"]
    with pytest.raises(ValueError, match="id"):
        tables.users.update(uid, {"name": "Ada", "id": "new"})
    with pytest.raises(TypeError):  # not JSON
        tables.users.update(uid, {"name": "Ada", "info": {"when": time}})
    with pytest.raises(RuntimeError), SyncDatabase(store.path).transaction() as conn:
        conn.execute("UPDATE user SET name = 'Ada' WHERE id = ?", (uid,))
        raise RuntimeError("after the update, before the commit")
    assert (await store.users.local())["name"] != "Ada"


async def test_file_records_round_trip(store: Store, tables: SyncStore) -> None:
    record = {
        "id": "f1", "user_id": "u", "hash": None, "filename": "a.txt", "path": "/a",
        "data": {}, "meta": {"size": 3}, "created_at": 1, "updated_at": 1,
    }  # fmt: skip
    assert tables.files.insert(record) and not tables.files.insert(record)  # the id is taken
    assert tables.files.get("f1") == record and tables.files.list("someone else") == []
    changed = tables.files.update("f1", data={"content": "abc"}, meta={"name": "a.txt"})
    assert changed is not None and (changed["data"], changed["meta"]) == ({"content": "abc"}, {"size": 3, "name": "a.txt"})
    assert tables.files.update("f1", hash="h")["hash"] == "h"  # type: ignore[index]
    assert tables.files.update("f1", replace_hash=True)["hash"] is None  # type: ignore[index]
    assert tables.files.update("ghost", hash="h") is None
    tables.files.delete("f1")
    assert tables.files.list() == []


# -- what it refuses ------------------------------------------------------------------------


def test_never_creates_a_database(tmp_path: Path) -> None:
    """A new file must be made and migrated by `Store.open`."""
    missing = tmp_path / "missing.db"
    with pytest.raises(StoreError, match="Cannot open"):
        SyncStore(missing).users.local()
    assert not missing.exists()
