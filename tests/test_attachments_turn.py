"""Attachments through a real turn: stored (rows, copies, the message's `files`), sent as Open
WebUI's web page and chat path send them, continued, deleted, exported, and refused by the CLI
before anything is stored. The byte-exact shapes are the chat conformance cases' (`bypass*`,
`image_message`: tests/conformance/test_chat_path.py)."""

from __future__ import annotations

import json
import sqlite3
import stat
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import tuichat
from tests.images import JPEG, png
from tuichat.runtime.attachments import read_attachment
from tuichat.runtime.export import chat_to_json, chat_to_markdown
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.turn import Turn
from tuichat.store import Store
from tuichat.store.schema import MIGRATIONS, statements

REPORTER = '''
import json
class Pipe:
    def pipe(self, body, __files__, __metadata__, __task__=None):
        if __task__ == "query_generation":
            return 'here: {"queries": ["the code"]}'
        return "SAW " + json.dumps({"messages": body["messages"], "files": __files__,
                                    "sources": __metadata__.get("sources"), "base": __metadata__.get("base_user_prompt")})
'''


def saw(turn: Turn) -> dict[str, Any]:
    content = turn.reply.content
    assert content.startswith("SAW "), content
    return dict(json.loads(content[4:]))


async def send(host: PipeHost, text: str, **options: Any) -> Turn:
    turn = Turn(host, "reporter", text, stream=False, **options)
    async for _ in turn.run():
        pass
    return turn


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    files = tmp_path / "attach"
    files.mkdir()
    (files / "notes.txt").write_text("The secret code is 4711.\n")
    (files / "plan.md").write_text("# Plan\n\n- ship it\n")
    (files / "dot.png").write_bytes(png())
    (files / "photo.jpg").write_bytes(JPEG)
    return files


async def test_text_markdown_png_and_jpeg_in_one_message(
    host: PipeHost, library: FunctionLibrary, store: Store, folder: Path
) -> None:
    await library.add(REPORTER, function_id="reporter")
    attachments = [read_attachment(folder / "notes.txt"), read_attachment(folder / "plan.md"),
                   read_attachment(folder / "dot.png"), read_attachment(folder / "photo.jpg")]  # fmt: skip
    turn = await send(host, "What is in them?", attachments=attachments)
    seen = saw(turn)

    # The statuses Open WebUI shows; the queries come from the task call to the pipe itself.
    assert turn.reply.statuses == [
        {"action": "queries_generated", "queries": ["the code"], "done": False},
        {"action": "sources_retrieved", "count": 2, "done": True},
    ]
    # Images are data-URL parts; the block and the typed text are text parts, each with the template.
    [message] = seen["messages"]
    parts = message["content"]
    assert [p["type"] for p in parts] == ["text", "text", "image_url", "image_url"]
    assert parts[2]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[3]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    for part in parts[:2]:
        assert '<source id="1" name="notes.txt" resource-type="file"' in part["text"]
        assert ">The secret code is 4711.\n</source>\n<source id=\"2\" name=\"plan.md\"" in part["text"]
    assert parts[1]["text"].endswith("</context>\n\nWhat is in them?")
    assert seen["base"].startswith("<attached_files>\n<file type=\"file\"") and 'name="plan.md"/>' in seen["base"]
    assert [f["name"] for f in seen["files"]] == ["notes.txt", "plan.md"]  # images are not files
    assert [s["document"] for s in seen["sources"]] == [["The secret code is 4711.\n"], ["# Plan\n\n- ship it\n"]]

    # Stored: the typed text, the message's files (chips), the rows and private copies.
    chat_id = turn.context.chat.id
    user_message = turn.context.user_message
    stored = await store.chats.get_message(user_message.id)
    assert stored.content == "What is in them?"
    assert [(f["type"], f["name"], f["size"], f["content_type"]) for f in stored.files] == [
        ("file", "notes.txt", 25, "text/plain"), ("file", "plan.md", 18, "text/markdown"),
        ("image", "dot.png", len(png()), "image/png"), ("image", "photo.jpg", len(JPEG), "image/jpeg"),
    ]  # fmt: skip
    assert "url" not in stored.files[2]  # an image is a reference to its row, not a second data URL
    rows = await store.files.of_chat(chat_id)
    assert [r.content for r in rows] == ["The secret code is 4711.\n", "# Plan\n\n- ship it\n", None, None]
    for row, attachment in zip(rows, attachments):
        copy = Path(row.path)
        assert copy.parent == store.path.parent / "files"
        assert copy.read_bytes() == attachment.data
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        assert row.hash == row.meta["file_hash"] == attachment.sha256

    # Exports name them; the JSON keeps the items.
    chat = await store.chats.get(chat_id)
    messages = await store.chats.messages(chat_id)
    markdown = chat_to_markdown(chat, messages)
    assert "**Attachments**\n\n- notes.txt (text/plain, 25 B)\n- plan.md (text/markdown, 18 B)\n- dot.png (image/png," in markdown
    exported = chat_to_json(chat, messages, {})
    assert exported["messages"][0]["files"] == stored.files

    # Deleting the chat deletes its rows and copies.
    await store.chats.delete(chat_id)
    assert await store.files.of_chat(chat_id) == []
    assert not any(Path(row.path).exists() for row in rows)


async def test_a_later_message_still_sends_the_chats_files(
    host: PipeHost, library: FunctionLibrary, store: Store, folder: Path
) -> None:
    """The web page sends the branch's files again (`chatFiles`) and the earlier message keeps
    its block and its image; the copies are read back from the data folder."""
    await library.add(REPORTER, function_id="reporter")
    first = await send(host, "Look", attachments=[read_attachment(folder / "notes.txt"), read_attachment(folder / "dot.png")])
    second = await send(host, "And now?", chat_id=first.context.chat.id)
    seen = saw(second)
    earlier = seen["messages"][0]["content"]
    assert earlier[0]["text"].startswith("<attached_files>\n") and earlier[1]["text"] == "Look"
    assert earlier[2]["image_url"]["url"] == read_attachment(folder / "dot.png").data_url
    assert seen["messages"][-1]["content"].endswith("</context>\n\nAnd now?")
    assert [f["name"] for f in seen["files"]] == ["notes.txt"]
    assert second.reply.statuses[-1] == {"action": "sources_retrieved", "count": 1, "done": True}
    assert (await store.chats.get_message(second.context.user_message.id)).files == []


async def test_no_save_stores_nothing(host: PipeHost, library: FunctionLibrary, store: Store, folder: Path) -> None:
    await library.add(REPORTER, function_id="reporter")
    turn = await send(host, "Read", save=False, attachments=[read_attachment(folder / "notes.txt")])
    assert saw(turn)["sources"][0]["document"] == ["The secret code is 4711.\n"]
    assert await store.chats.list() == []
    assert not (store.path.parent / "files").exists()


async def test_an_older_database_gains_the_file_table(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        for migration in MIGRATIONS[:11]:
            for statement in statements(migration):
                conn.execute(statement)
        conn.execute("PRAGMA user_version = 11")
        conn.execute("INSERT INTO chat (id, title, created_at, updated_at) VALUES ('c', 'Old chat', 1, 1)")
        conn.execute("INSERT INTO message (id, chat_id, role, content, created_at, updated_at, status)"
                     " VALUES ('m', 'c', 'user', 'hi', 1, 1, 'done')")  # fmt: skip
    async with await Store.open(db_path) as store:
        assert (await store.chats.get_message("m")).files == []
        row = await store.files.add(file_id="f", user_id="u", chat_id="c", filename="a.txt", content_type="text/plain",
                                    data=b"x", sha256="h", text="x")  # fmt: skip
        assert (await store.files.get("f")) == row
        assert await store.chats.delete("c")
        assert await store.files.get("f") is None


def test_cli_refuses_bad_attachments_before_storing_anything(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    huge = tmp_path / "huge.log"
    with huge.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    (tmp_path / "fake.png").write_text("not an image")
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    cases = [
        (["--file", str(tmp_path / "gone.txt")], "gone.txt: no such file"),
        (["--file", str(huge)], "huge.log is 100 MB: over the 25 MB limit for files"),
        (["--image", str(tmp_path / "fake.png")], "only PNG, JPEG, GIF or WebP images can be attached"),
        (["--file", str(tmp_path / "blob.bin")], "blob.bin is a binary file"),
        (["--file", str(tmp_path)], "is a folder"),
    ]
    for options, said in cases:
        result = tuichat(db, "run", "echo", "hi", *options)
        assert result.returncode == 2, result.stderr
        assert said in result.stderr
    assert json.loads(tuichat(db, "chats", "list", "--json").stdout) == []


READER = '''
from open_webui.models.files import Files
class Pipe:
    def pipe(self, body, __files__):
        file = Files.get_file_by_id(__files__[0]["id"])
        return f"{file.filename}: {file.data['content']}"
'''


async def test_a_pipe_reads_an_attachment_through_open_webuis_files_model(
    host: PipeHost, library: FunctionLibrary, folder: Path
) -> None:
    await library.add(READER, function_id="reader")
    turn = Turn(host, "reader", "read it", stream=False, attachments=[read_attachment(folder / "notes.txt")])
    async for _ in turn.run():
        pass
    assert turn.reply.content == "notes.txt: The secret code is 4711.\n"


HANDLER = '''
class Filter:
    def __init__(self):
        self.file_handler = True

    def inlet(self, body):
        return body
'''


async def test_a_file_handler_filter_keeps_only_the_block(
    host: PipeHost, library: FunctionLibrary, store: Store, folder: Path
) -> None:
    """No query call, no statuses, no sources or template; the block (added before the inlets) stays."""
    await library.add(REPORTER, function_id="reporter")
    await library.add(HANDLER, function_id="handler")
    await store.functions.update("handler", is_global=True)
    turn = await send(host, "Read", attachments=[read_attachment(folder / "notes.txt")])
    seen = saw(turn)
    assert turn.reply.statuses == [] and seen["sources"] == [] and seen["files"] == []
    [message] = seen["messages"]
    assert message["content"].startswith("<attached_files>\n") and message["content"].endswith("</attached_files>\n\nRead")
