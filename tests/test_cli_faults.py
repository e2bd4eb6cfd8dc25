"""`tuichat run` and the other commands under faults, with real processes and real files:
kill -9, SIGTERM and SIGHUP to a running `tuichat run`, its stdout closed by `head -c 30`, the
database's write lock held by another process, and a full disk (a small tmpfs).

What is promised: what arrived of a reply is saved as it arrives (within SAVE_INTERVAL, which bench/kill_loss.py measures), even while the pipe
sends nothing; a reply whose process died is marked interrupted by the next start (a reply a
live process is writing is left alone); SIGTERM/SIGHUP save it as interrupted and exit with
128 + the signal; a closed stdout is quiet and the reply is still received and saved whole;
a save the database refuses is retried, and a reply it never takes goes to a recovery file.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli_helpers import cli_env, ok, tuichat, tuichat_process
from tests.faults import PAUSING, FullDisk, steady, write_lock

PAUSED_TEXT = "word0 word1 word2 word3 word4 word5 word6 word7 word8 word9"
INTERRUPTED_NOTE = "interrupted: tuichat ended before this reply did; what arrived until then is kept"


def last_reply(db: Path) -> tuple[str, str, str]:
    """(chat id, content, status) of the newest reply; read-only, so it never waits for a lock."""
    if not db.exists():
        return ("", "", "")
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        try:
            row = conn.execute(
                "SELECT chat_id, content, status FROM message WHERE role = 'assistant' ORDER BY created_at DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:  # the schema is not there yet
            return ("", "", "")
    return (row[0], row[1], row[2]) if row else ("", "", "")


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def start_run(db: Path, *args: str, env: dict[str, str] | None = None, stdout: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """`tuichat run ARGS` in its own process. Its stdout is a pipe unless given: a test that does
    not read it must not pass one, as a reply that fills the pipe would block the process."""
    return subprocess.Popen(
        [sys.executable, "-m", "tuichat", "--db", str(db), "run", *args],
        stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, text=True,
        env=env or cli_env(),
    )


def stderr_until(process: subprocess.Popen[str], text: str) -> str:
    """What `process` writes to stderr, up to the line that holds `text`."""
    assert process.stderr is not None
    said = ""
    while text not in said:
        line = process.stderr.readline()
        assert line, f"the process ended (exit {process.wait()}) without saying {text!r}; it said:\n{said}"
        said += line
    return said


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    (tmp_path / "pausing.py").write_text(PAUSING, encoding="utf-8")
    ok(tuichat(path, "pipes", "add", str(tmp_path / "pausing.py")))
    return path


@pytest.fixture
def running(db: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; any left running at the end are killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


# -- kill -9 and start-up recovery --------------------------------------------------------
def test_kill_9_loses_nothing_that_arrived_before_a_long_think(db: Path, running: list[subprocess.Popen[str]]) -> None:
    run = start_run(db, "pausing", "think")
    running.append(run)
    wait_for("the ten words to be saved", lambda: last_reply(db)[1] == PAUSED_TEXT + " ", timeout=30)
    # Saved although nothing came after them: the save did not wait for another chunk.
    chat_id, _, status = last_reply(db)
    assert status == "streaming"
    # A live process's reply is left alone by another process's start-up.
    ok(tuichat_process(db, "chats", "list"))
    assert last_reply(db)[2] == "streaming"
    run.send_signal(signal.SIGKILL)
    run.wait()
    # The next start marks it interrupted, keeping the text; `chats show` says so.
    shown = ok(tuichat_process(db, "chats", "show", chat_id)).stdout
    assert f"## assistant (pausing, interrupted)\n\n{PAUSED_TEXT}" in shown
    assert INTERRUPTED_NOTE in shown
    assert last_reply(db)[1:] == (PAUSED_TEXT + " ", "interrupted")
    shown_json = json.loads(ok(tuichat_process(db, "chats", "show", chat_id, "--json")).stdout)
    assert shown_json["messages"][-1]["status"] == "interrupted"


def test_a_held_lock_at_start_up_leaves_marking_to_a_later_start(db: Path, running: list[subprocess.Popen[str]]) -> None:
    run = start_run(db, "pausing", "think")
    running.append(run)
    wait_for("the ten words to be saved", lambda: last_reply(db)[1] == PAUSED_TEXT + " ", timeout=30)
    run.send_signal(signal.SIGKILL)
    run.wait()
    with write_lock(db):
        started = time.monotonic()
        listed = ok(tuichat_process(db, "chats", "list"))  # start-up does not wait out the lock, nor fail
        assert time.monotonic() - started < 10, listed.stderr
        assert last_reply(db)[2] == "streaming"
    ok(tuichat_process(db, "chats", "list"))
    assert last_reply(db)[1:] == (PAUSED_TEXT + " ", "interrupted")


def test_words_are_saved_while_the_reply_still_streams(db: Path, running: list[subprocess.Popen[str]]) -> None:
    """Saved as they arrive, not when the reply ends: the pipe then thinks for 30 s, and the
    words are in the database long before (how soon: bench/kill_loss.py, not timed here)."""
    run = start_run(db, "pausing", "think")
    running.append(run)
    assert run.stdout is not None
    seen = ""
    while "word9" not in seen:  # the reply streams to stdout as it arrives
        seen += os.read(run.stdout.fileno(), 4096).decode()
    wait_for("the words to be saved", lambda: "word9" in last_reply(db)[1], timeout=10)
    assert last_reply(db)[2] == "streaming" and run.poll() is None


# -- SIGTERM and SIGHUP -------------------------------------------------------------------
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_saves_the_reply_as_interrupted(db: Path, signum: signal.Signals, running: list[subprocess.Popen[str]]) -> None:
    run = start_run(db, "pausing", "think")
    running.append(run)
    wait_for("the ten words to be saved", lambda: "word9" in last_reply(db)[1])
    run.send_signal(signum)
    out, err = run.communicate(timeout=20)
    assert run.returncode == 128 + signum, err
    assert out.startswith(PAUSED_TEXT)
    assert f"[interrupted] {signum.name}: the reply ends here; what arrived is kept" in err
    assert "Traceback" not in err
    assert last_reply(db)[1:] == (PAUSED_TEXT, "interrupted")


# -- a reader that goes away: | head -c 30 ---------------------------------------------------
def piped_to_head(db: Path, *args: str) -> tuple[int, bytes, str]:
    """`tuichat --db DB ARGS | head -c 30`, two real processes and a real pipe: tuichat's exit
    status, what head printed, and tuichat's stderr."""
    command = subprocess.Popen(
        [sys.executable, "-m", "tuichat", "--db", str(db), *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(),
    )
    assert command.stdout is not None and command.stderr is not None
    head = subprocess.Popen(["head", "-c", "30"], stdin=command.stdout, stdout=subprocess.PIPE)
    command.stdout.close()  # head holds the only reading end
    printed, _ = head.communicate(timeout=60)
    err = command.stderr.read().decode()
    return command.wait(timeout=60), printed, err


def quiet(result: tuple[int, bytes, str]) -> bytes:
    status, printed, err = result
    assert status == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err
    assert len(printed) == 30
    return printed


@pytest.mark.parametrize("jsonl", [False, True], ids=["text", "jsonl"])
def test_run_into_head_still_receives_and_saves_the_whole_reply(db: Path, tmp_path: Path, jsonl: bool) -> None:
    # 300 words over ~1.5 s, 30 KB of output a word at a time: head is long gone by the end.
    (tmp_path / "steady.py").write_text(steady(300, 0.005, size=100), encoding="utf-8")
    ok(tuichat(db, "pipes", "add", str(tmp_path / "steady.py")))
    printed = quiet(piped_to_head(db, "run", "steady", "go", *(["--jsonl"] if jsonl else [])))
    if not jsonl:
        assert printed.startswith(b"w0....")
    _, content, status = last_reply(db)
    assert status == "done"
    assert content == "".join(f"w{i}".ljust(100, ".") + " " for i in range(300)).strip()


def test_listing_commands_into_head_end_quietly(db: Path, tmp_path: Path) -> None:
    # Each prints far more than a pipe holds (64 KB), so head closes it part-way.
    long = "many words " * 20_000
    ok(tuichat_process(db, "run", "echo", "--no-stream", input=long))
    chat_id = last_reply(db)[0]
    models = "\n".join(f"            {{'id': 'm{i}', 'name': 'Model number {i}'}}," for i in range(3000))
    (tmp_path / "big.py").write_text(
        f'"""\ntitle: Big\n"""\n# {"padding " * 10_000}\nclass Pipe:\n    def pipes(self):\n        return [\n{models}\n        ]\n\n'
        "    def pipe(self, body):\n        return 'x'\n",
        encoding="utf-8",
    )
    ok(tuichat(db, "pipes", "add", str(tmp_path / "big.py")))
    assert quiet(piped_to_head(db, "chats", "show", chat_id)).startswith(b"# many words")
    assert quiet(piped_to_head(db, "pipes", "export", "--all")).startswith(b"[")
    assert quiet(piped_to_head(db, "models", "--json")).startswith(b"[")


# -- the write lock held by another process -----------------------------------------------
def test_a_held_lock_delays_the_save_and_says_who_holds_it(db: Path, tmp_path: Path, running: list[subprocess.Popen[str]]) -> None:
    gate = tmp_path / "go-on"
    (tmp_path / "steady.py").write_text(steady(60, 0.05, gate=gate, hold_at=3), encoding="utf-8")
    ok(tuichat(db, "pipes", "add", str(tmp_path / "steady.py")))
    run = start_run(db, "steady", "go", stdout=subprocess.DEVNULL)
    running.append(run)
    wait_for("the first words to be saved", lambda: "w2." in last_reply(db)[1])
    with write_lock(db) as holder:
        gate.touch()
        time.sleep(2.0)
        assert last_reply(db)[2] == "streaming"
    out, err = run.communicate(timeout=30)
    assert run.returncode == 0, err
    assert f"[save] The reply is not saved yet: {db} is locked by pid {holder.pid} (" in err
    assert "End that process or let it finish; the reply is kept" in err
    assert "[save] saved" in err
    assert last_reply(db)[1:] == ("".join(f"w{i}".ljust(8, ".") + " " for i in range(60)).strip(), "done")


def test_a_lock_held_past_the_end_of_the_reply_is_waited_for(db: Path, tmp_path: Path, running: list[subprocess.Popen[str]]) -> None:
    (tmp_path / "steady.py").write_text(steady(30, 0.05), encoding="utf-8")
    ok(tuichat(db, "pipes", "add", str(tmp_path / "steady.py")))
    run = start_run(db, "steady", "go", stdout=subprocess.DEVNULL)
    running.append(run)
    wait_for("the first words to be saved", lambda: "w2." in last_reply(db)[1])
    with write_lock(db):
        waiting = stderr_until(run, "[save] waiting for the database")
        time.sleep(1.0)
        assert run.poll() is None  # the reply has ended and tuichat waits to save it
    out, err = run.communicate(timeout=30)
    assert run.returncode == 0, waiting + err
    assert last_reply(db)[2] == "done"


# -- a full disk ------------------------------------------------------------------------
@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[FullDisk]:
    disk = FullDisk(tmp_path / "small")
    if not disk.available():
        pytest.skip(f"a full disk is simulated with a small tmpfs, which {disk.reason} (CI runs as root)")
    try:
        yield disk
    finally:
        disk.unmount()


@pytest.mark.parametrize("freed", [True, False], ids=["freed", "never-freed"])
def test_a_full_disk_delays_the_save_or_sends_the_reply_to_a_recovery_file(
    full_disk: FullDisk, tmp_path: Path, freed: bool, running: list[subprocess.Popen[str]]
) -> None:
    db = full_disk.folder / "t.db"
    gate = tmp_path / "go-on"
    (tmp_path / "big.py").write_text(steady(40, 0.03, size=4000, gate=gate, hold_at=3), encoding="utf-8")
    ok(tuichat(db, "pipes", "add", str(tmp_path / "big.py")))
    env = {**cli_env(), "TMPDIR": str(tmp_path)}  # where the recovery file goes, the disk being full
    run = start_run(db, "big", "go", env=env, stdout=subprocess.DEVNULL)
    running.append(run)
    wait_for("the first words to be saved", lambda: "w2." in last_reply(db)[1])
    full_disk.fill()
    gate.touch()
    said = stderr_until(run, "[save] waiting for the database")
    assert f"[save] The reply is not saved yet: the disk holding {db} is full (" in said
    assert f"free on {full_disk.folder}). Free some space there; the reply is kept" in said
    whole = "".join(f"w{i}".ljust(4000, ".") + " " for i in range(40)).strip()
    if freed:
        full_disk.free()
        out, err = run.communicate(timeout=30)
        assert run.returncode == 0, said + err
        assert last_reply(db)[1:] == (whole, "done")
        return
    run.send_signal(signal.SIGTERM)  # stop waiting: the reply goes to a file
    out, err = run.communicate(timeout=30)
    assert run.returncode == 2, said + err
    [line] = [line for line in err.splitlines() if "it was written to " in line]
    path = Path(line.rsplit("it was written to ", 1)[1])
    assert path.parent == tmp_path / "tuichat-recovery"  # beside the database there was no room
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["format"] == "tuichat.unsaved-reply" and record["db"] == str(db)
    assert record["reply"]["content"] == whole and record["reply"]["status"] == "done"
    assert record["user_message"] == "go" and "is full" in record["problem"]
