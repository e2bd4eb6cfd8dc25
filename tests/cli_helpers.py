"""Running the `tuichat` CLI from tests: in the test's own process, in a process of its own, or
several commands in one process.

    tuichat          the console script's entry point called here (what most CLI tests need:
                     a fresh interpreter and the runtime's imports cost ~0.3 s a command)
    tuichat_process  `python -m tuichat` in its own process: for what only a real process
                     shows (signals, pipes to `head`, locks held by another process, start-up)
    tuichat_many     several commands in one driver process (tests/cli_driver.py)

Every command gets `--db <path>` first and an environment without TUICHAT_DB, so nothing here
can touch a user's own database; stdin is /dev/null unless given (never a TTY).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests import cli_driver

TIMEOUT = 60  # seconds; no command here should come near it
DRIVER = Path(__file__).with_name("cli_driver.py")


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TUICHAT_DB"}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def console_script() -> str | None:
    """The `tuichat` console script of the Python running the tests: a venv's bin folder need
    not be on PATH, and the one on PATH may belong to another install (another checkout)."""
    beside = Path(sys.executable).parent / "tuichat"
    return str(beside) if beside.exists() else shutil.which("tuichat")


def tuichat(
    db: Path, *args: str, input: str | None = None, timeout: float = TIMEOUT, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run one CLI command as the console script would, in this process: its stdout, stderr and
    exit status as a process's (see `in_this_process`). With a `prefix` (a command to run it
    under), or called where an event loop runs (the CLI runs its own) or off the main thread
    (what it swaps is the whole process's: streams, environment, signal handlers), in its own
    process."""
    if prefix or not _here_is_safe():
        return tuichat_process(db, *args, input=input, timeout=timeout, prefix=prefix)
    return in_this_process(["--db", str(db), *args], input)


def _here_is_safe() -> bool:
    """On the main thread with no event loop running: nothing else runs while a command does."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return True
    return False


_script: Any = None


def in_this_process(argv: list[str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    """The console script's entry point on `argv`, here, as tests/cli_driver.py runs it, with what a
    process would have of its own: the environment of `cli_env`, stdin (the `input` text, else
    empty), and its file descriptors 1 and 2: anything written to them directly, around
    sys.stdout and sys.stderr, is added to what the command printed there. An early host nobody
    adopted is ended, as the process's exit would."""
    global _script
    from tuichat.runtime.hostproc import spawn

    _script = _script or cli_driver.console_script()
    with _environment(cli_env()), _stdin(input or ""), _descriptor(1) as fd_out, _descriptor(2) as fd_err:
        try:
            result = cli_driver.run(_script, argv)
        finally:
            spawn.discard()
    out, err = result["stdout"] + fd_out.getvalue(), result["stderr"] + fd_err.getvalue()
    return subprocess.CompletedProcess(argv, result["status"], out, err)


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _stdin(text: str) -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = saved


@contextlib.contextmanager
def _descriptor(fd: int) -> Iterator[io.StringIO]:
    """What is written to `fd` meanwhile (it points at a temp file), in the yielded buffer after."""
    seen = io.StringIO()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as file:
        os.dup2(file.fileno(), fd)
        try:
            yield seen
        finally:
            for stream in (sys.__stdout__, sys.__stderr__):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved, fd)
            os.close(saved)
            file.seek(0)
            seen.write(file.read().decode("utf-8", "replace"))


def tuichat_process(
    db: Path, *args: str, input: str | None = None, timeout: float = TIMEOUT, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run one CLI command as `python -m tuichat --db <db> ...` in its own process."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tuichat", "--db", str(db), *args],
        check=False,
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=cli_env(),
        timeout=timeout,
    )


def tuichat_many(db: Path, commands: Sequence[Sequence[str]], timeout: float = 2 * TIMEOUT) -> list[subprocess.CompletedProcess[str]]:
    """Run several CLI commands in order in one process, each through the console script's entry
    point with its own stdout, stderr and exit status: in this one (`in_this_process`), or where
    an event loop runs or off the main thread, in a driver process (tests/cli_driver.py)."""
    argvs = [["--db", str(db), *args] for args in commands]
    if _here_is_safe():
        return [in_this_process(argv) for argv in argvs]
    with tempfile.TemporaryDirectory() as folder:
        commands_path, results_path = Path(folder) / "commands.json", Path(folder) / "results.jsonl"
        commands_path.write_text(json.dumps(argvs), encoding="utf-8")
        driver = subprocess.run(
            [sys.executable, str(DRIVER), str(commands_path), str(results_path)], check=False, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, encoding="utf-8", env=cli_env(), timeout=timeout,
        )
        lines = results_path.read_text(encoding="utf-8").splitlines() if results_path.exists() else []
    results = [json.loads(line) for line in lines]
    assert (driver.returncode, driver.stdout, driver.stderr, len(results)) == (0, "", "", len(argvs)), (
        f"the driver (exit {driver.returncode}) ran {len(results)} of {len(argvs)} commands\n"
        f"stdout:\n{driver.stdout}\nstderr:\n{driver.stderr}"
    )
    return [subprocess.CompletedProcess(r["argv"], r["status"], r["stdout"], r["stderr"]) for r in results]


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def query(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
