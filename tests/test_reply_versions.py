"""A chat is a tree of messages, as Open WebUI keeps it: regenerate and edit-and-resend add
siblings, the chat shows and continues one branch (its current leaf), and every version is kept
(real SQLite files, real turns through the pipe host)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.turn import Turn
from tuichat.store import Store
from tuichat.store.branches import Version

ECHO = '''
class Pipe:
    def pipe(self, body):
        return "re: " + " | ".join(m["content"] for m in body["messages"])
'''


async def turn(host: PipeHost, chat_id: str | None, text: str, **kwargs: object) -> Turn:
    t = Turn(host, "echo", text, chat_id=chat_id, **kwargs)  # type: ignore[arg-type]
    async for _ in t.run():
        pass
    return t


async def test_regenerate_and_edit_keep_every_version_and_the_chat_continues_the_chosen_one(store: Store) -> None:
    await store.settings.set("follow_up_generation", False)
    async with PipeHost(store) as host:
        await FunctionLibrary(host).add(ECHO, function_id="echo")
        first = await turn(host, None, "a")
        chat_id = first.context.chat.id
        await turn(host, chat_id, "b")
        branch = await store.chats.messages(chat_id)
        user_b = branch[2]
        await turn(host, chat_id, user_b.content, again=user_b)  # regenerate: a second reply to "b"
        branch, versions = await store.chats.branch_with_versions(chat_id)
        assert [m.content for m in branch] == ["a", "re: a", "b", "re: a | re: a | b"]
        assert versions == {branch[3].id: Version(2, 2)}
        await turn(host, chat_id, "B!", edit_of=user_b)  # edit and resend: a sibling of "b"
        branch, versions = await store.chats.branch_with_versions(chat_id)
        assert [m.content for m in branch] == ["a", "re: a", "B!", "re: a | re: a | B!"]
        assert versions == {branch[2].id: Version(2, 2)}
        nxt = await turn(host, chat_id, "c")  # continues the chosen branch
        assert nxt.reply.content == "re: a | re: a | B! | re: a | re: a | B! | c"
        # Back to the first version of the user message: its newest reply shows.
        assert await store.chats.switch_version(chat_id, branch[2].id, -1)
        branch, versions = await store.chats.branch_with_versions(chat_id)
        assert [m.content for m in branch] == ["a", "re: a", "b", "re: a | re: a | b"]
        assert versions == {branch[2].id: Version(1, 2), branch[3].id: Version(2, 2)}
        assert await store.chats.switch_version(chat_id, branch[3].id, -1)
        assert [m.content for m in await store.chats.messages(chat_id)][-1] == "re: a | re: a | b"
        assert [m.content for m in await store.chats.messages(chat_id)] == ["a", "re: a", "b", "re: a | re: a | b"]
        assert not await store.chats.switch_version(chat_id, branch[3].id, -5)  # no such version
        assert len(await store.chats.all_messages(chat_id)) == 9  # nothing was lost


async def test_the_first_message_can_be_edited_into_a_second_root(store: Store) -> None:
    await store.settings.set("follow_up_generation", False)
    async with PipeHost(store) as host:
        await FunctionLibrary(host).add(ECHO, function_id="echo")
        first = await turn(host, None, "a")
        chat_id = first.context.chat.id
        await turn(host, chat_id, "A", edit_of=first.context.user_message)
        branch, versions = await store.chats.branch_with_versions(chat_id)
        assert [m.content for m in branch] == ["A", "re: A"]
        assert versions == {branch[0].id: Version(2, 2)}


async def test_v8_chains_messages_stored_without_parents(tmp_path: Path) -> None:
    from tuichat.store.schema import MIGRATIONS, statements

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:7]:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 7")
    conn.execute("INSERT INTO chat (id, title, created_at, updated_at) VALUES ('c', 'C', 1, 1)")
    for n, (role, text) in enumerate([("user", "q1"), ("assistant", "a1"), ("user", "q2"), ("assistant", "a2")]):
        conn.execute(
            "INSERT INTO message (id, chat_id, role, content, created_at, updated_at, status) VALUES (?, 'c', ?, ?, ?, ?, 'done')",
            (f"m{n}", role, text, n, n),
        )
    conn.commit()
    conn.close()
    async with await Store.open(path) as store:
        assert [m.content for m in await store.chats.messages("c")] == ["q1", "a1", "q2", "a2"]
        assert [m.parent_id for m in await store.chats.messages("c")] == [None, "m0", "m1", "m2"]
        added = await store.chats.add_message("c", "user", "q3")
        assert added.parent_id == "m3"
