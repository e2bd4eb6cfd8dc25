"""Running the `tuichat` CLI from tests: one process per command, or several commands in one.

Every command gets `--db <path>` first and an environment without TUICHAT_DB, so nothing here
can touch a user's own database; stdin is /dev/null unless given (never a TTY).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
    """Run several CLI commands in order in one process (tests/cli_driver.py), each through the
    console script's entry point with its own stdout, stderr and exit status."""
    argvs = [["--db", str(db), *args] for args in commands]
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
