"""The CLI as a Unix tool, checked with real processes: a reader that stops early (`head`,
`grep -m`, `jq`), questions asked at a terminal (a pty), abbreviated chat ids, a manifold's
bare id.
"""

from __future__ import annotations

import asyncio
import os
import re
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli_helpers import cli_env, tuichat, tuichat_process
from tuichat.store import Store

BIG = 400_000  # characters: well past a pipe's buffer, so writes go on after the reader left


def shell(db: Path, command: str, reader: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m tuichat --db DB COMMAND | READER` in sh, with tuichat's exit status on fd 3."""
    tuichat_cmd = f"{shlex.quote(sys.executable)} -m tuichat --db {shlex.quote(str(db))} {command}"
    script = f"{{ {tuichat_cmd} 2>tuichat.err; echo $? >&3; }} 3>status | {reader} >/dev/null"
    folder = db.parent
    subprocess.run(["sh", "-c", script], cwd=folder, env=cli_env(), timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    status = int((folder / "status").read_text().strip())
    return subprocess.CompletedProcess(command, status, "", (folder / "tuichat.err").read_text(encoding="utf-8"))


def big_pipe_source() -> str:
    description = "wide " * (BIG // 5)
    models = ", ".join(f'{{"id": "m{i:05d}", "name": "Model number {i} {"x" * 40}"}}' for i in range(4000))
    return f'''"""
title: Big {"b" * 100_000}
description: {description}
"""


class Pipe:
    def pipes(self):
        return [{models}]

    async def pipe(self, body: dict):
        for _ in range(3000):
            yield "many words go by here " * 10
'''


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store whose every listing is far bigger than a pipe's buffer."""
    folder = tmp_path_factory.mktemp("big")
    db = folder / "db.sqlite"
    source = folder / "big.py"
    source.write_text(big_pipe_source(), encoding="utf-8")
    assert tuichat(db, "--offline", "pipes", "add", str(source)).returncode == 0

    async def fill() -> None:
        store = await Store.open(db)
        try:
            for i in range(1500):
                await store.chats.create(f"chat number {i} " + "t" * 60, model_id="echo")
            chat = await store.chats.create("the long one")
            await store.chats.add_message(chat.id, "user", "long words " * (BIG // 11))
        finally:
            await store.close()

    asyncio.run(fill())
    return db


# jq --stream, so jq stops reading at its first answer as head does (plain jq reads it all).
READERS = {"head": "head -n 1", "grep": "grep -m 1 .", "jq": "jq -cn --stream 'first(inputs)'"}
COMMANDS = {
    "run": "run big.m00001 go",
    "run --jsonl": "run big.m00001 go --jsonl",
    "chats list": "chats list",
    "chats list --json": "chats list --json",
    "chats show": "chats show {long}",
    "models": "models",
    "models --json": "models --json",
    "pipes list": "pipes list",
    "pipes list --json": "pipes list --json",
}


def long_chat_id(db: Path) -> str:
    listing = tuichat(db, "chats", "list")
    return next(line.split()[0] for line in listing.stdout.splitlines() if line.endswith("the long one"))


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_reader_that_stops_early_ends_tuichat_quietly(big_store: Path, command: str, reader: str) -> None:
    if reader == "jq" and (shutil.which("jq") is None or "--json" not in command):
        pytest.skip("jq reads JSON listings" if shutil.which("jq") else "jq is not installed")
    line = COMMANDS[command].format(long=long_chat_id(big_store) if "{long}" in COMMANDS[command] else "")
    result = shell(big_store, line, READERS[reader])
    assert result.stderr == "", result.stderr  # no BrokenPipeError, no "database is already closed"
    assert result.returncode == 0  # what it would have been: the reader going away ends nothing


def test_a_reply_whose_reader_went_away_is_still_received_and_saved_whole(big_store: Path) -> None:
    before = len(tuichat(big_store, "chats", "list").stdout.splitlines())
    result = shell(big_store, "run big.m00002 go", "head -c 100")
    assert result.returncode == 0 and result.stderr == ""
    listing = tuichat(big_store, "chats", "list", "--json")
    assert len(listing.stdout.splitlines()) > 0 and len(tuichat(big_store, "chats", "list").stdout.splitlines()) == before + 1
    newest = tuichat(big_store, "chats", "list").stdout.splitlines()[1].split()[0]
    shown = tuichat(big_store, "chats", "show", newest)
    assert "assistant (big.m00002, done)" in shown.stdout
    assert shown.stdout.count("many words go by here") == 30_000


# -- abbreviated chat ids ---------------------------------------------------------------------
def test_chat_ids_may_be_abbreviated_to_a_unique_prefix(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    # 17 UUIDs: two of them must share a first hex digit. Stored as `tuichat run echo` stores a
    # chat (a run per chat, each starting a host, took most of a minute); the run below is real.
    async def fill() -> None:
        async with await Store.open(db) as store:
            for i in range(17):
                chat = await store.chats.create(f"message {i}", model_id="echo")
                await store.chats.add_message(chat.id, "user", f"message {i}")
                await store.chats.add_message(chat.id, "assistant", f"message {i}", model_id="echo")

    asyncio.run(fill())
    ids = [line.split()[0] for line in tuichat_process(db, "chats", "list").stdout.splitlines()[1:]]
    first = next(c for c in "0123456789abcdef" if sum(i.startswith(c) for i in ids) >= 2)
    sharing = sorted(i for i in ids if i.startswith(first))

    ambiguous = tuichat_process(db, "chats", "show", first)
    assert ambiguous.returncode == 2 and ambiguous.stdout == ""
    assert f"'{first}' is the start of several chat ids" in ambiguous.stderr
    assert all(chat_id in ambiguous.stderr for chat_id in sharing)

    chosen = ids[0]
    prefix = next(chosen[:n] for n in range(1, 37) if sum(i.startswith(chosen[:n]) for i in ids) == 1)
    shown = tuichat_process(db, "chats", "show", prefix, "--json")
    assert shown.returncode == 0 and f'"id": "{chosen}"' in shown.stdout

    again = tuichat_process(db, "run", "echo", "once more", "--chat", prefix)
    assert again.returncode == 0, again.stderr
    assert "once more" in tuichat_process(db, "chats", "show", chosen).stdout

    missing = tuichat_process(db, "chats", "show", "zz")
    assert missing.returncode == 2 and "no chat 'zz' is stored" in missing.stderr

    removed = tuichat_process(db, "chats", "rm", prefix)
    assert removed.returncode == 0 and removed.stdout == f"removed chat '{chosen}'\n"


def test_a_manifold_bare_id_is_a_usage_error_listing_its_models(tmp_path: Path) -> None:
    result = tuichat_process(tmp_path / "db.sqlite", "run", "manifold", "hi")
    assert result.returncode == 2 and result.stdout == ""
    assert "'manifold' is a manifold, not a model" in result.stderr
    assert all(f"manifold.{sub}" in result.stderr for sub in ("reverse", "shout", "count"))


# -- questions at a terminal --------------------------------------------------------------------
ASKING_PIPE = '''
import asyncio


class Pipe:
    async def pipe(self, body, __event_emitter__=None, __event_call__=None):
        done = asyncio.Event()

        async def ticking():
            n = 0
            while not done.is_set():
                n += 1
                await __event_emitter__({"type": "status", "data": {"description": f"tick {n}", "done": False}})
                await asyncio.sleep(0.02)

        ticker = asyncio.create_task(ticking())
        yield "before the questions "
        secret = await __event_call__({"type": "input", "data": {"title": "Password", "message": "Your key",
                                                                 "type": "password"}})
        fruit = await __event_call__({"type": "input", "data": {"title": "Fruit", "message": "Pick one",
                                                                "type": "select", "options": [
                                                                    {"label": "Apple", "value": "apple"},
                                                                    {"label": "Pear", "value": "pear"}]}})
        done.set()
        await ticker
        yield f"key of {len(secret)} chars, fruit {fruit}"
'''


class Terminal:
    """tuichat with stdin and stderr on a pty (what a person sees), stdout on a pipe."""

    def __init__(self, db: Path, *args: str) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tuichat", "--db", str(db), *args],
            stdin=slave, stderr=slave, stdout=subprocess.PIPE, env=cli_env(), start_new_session=True,
        )
        os.close(slave)
        self.seen = b""

    def expect(self, pattern: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.seen):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never saw {pattern!r}:\n{self.seen.decode(errors='replace')}"
            if select.select([self.master], [], [], remaining)[0]:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:
                    break
        return self.seen

    def send(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def finish(self) -> tuple[int, str]:
        stdout = self.process.stdout.read().decode() if self.process.stdout else ""
        status = self.process.wait(timeout=30)
        while select.select([self.master], [], [], 0.2)[0]:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.seen += chunk
        os.close(self.master)
        return status, stdout


def test_questions_are_not_interleaved_a_password_is_hidden_a_select_needs_an_option(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    (tmp_path / "asking.py").write_text(ASKING_PIPE, encoding="utf-8")
    assert tuichat(db, "--offline", "pipes", "add", str(tmp_path / "asking.py")).returncode == 0
    terminal = Terminal(db, "run", "asking", "go")

    asked = terminal.expect(rb"answer \(ctrl-d cancels\): ")
    question = asked[asked.index(b"[input] Password"):]
    time.sleep(0.3)  # ticks go on in the pipe meanwhile; none may land inside the question
    terminal.expect(rb"answer \(ctrl-d cancels\): ")
    assert b"[status]" not in terminal.seen[terminal.seen.index(b"[input] Password"):], question
    terminal.send("hunter2")

    terminal.expect(rb"choose 1-2")
    terminal.send("banana")
    terminal.expect(rb"'banana' is not one of the options")
    terminal.send("2")
    status, stdout = terminal.finish()
    seen = terminal.seen.decode(errors="replace")

    assert status == 0, seen
    assert "hunter2" not in seen and "hunter2" not in stdout  # never echoed, never printed
    assert '[call:input] Password → "••••••••"' in seen
    assert '[call:input] Fruit → "pear"' in seen
    assert "[status] tick" in seen  # held while asking, shown after
    assert stdout.endswith("key of 7 chars, fruit pear\n")
    assert "1) Apple" in seen and "2) Pear" in seen


def test_a_password_typed_at_the_terminal_is_masked_in_the_jsonl_trace_too(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    (tmp_path / "asking.py").write_text(ASKING_PIPE, encoding="utf-8")
    assert tuichat(db, "--offline", "pipes", "add", str(tmp_path / "asking.py")).returncode == 0
    terminal = Terminal(db, "run", "asking", "go", "--jsonl")
    terminal.expect(rb"answer \(ctrl-d cancels\): ")
    terminal.send("hunter2")
    terminal.expect(rb"choose 1-2")
    terminal.send("Apple")
    status, stdout = terminal.finish()
    assert status == 0 and "hunter2" not in stdout + terminal.seen.decode(errors="replace")
    assert '"reply": {"masked": true}' in stdout and '"reply": "apple"' in stdout
