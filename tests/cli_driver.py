"""Run several `tuichat` command lines in one process, each as the console script runs it.

    python tests/cli_driver.py COMMANDS.json RESULTS.jsonl

COMMANDS.json is a JSON list of argv lists (without "tuichat"); RESULTS.jsonl gets one JSON
object a line per command, in order: {"argv", "status", "stdout", "stderr"}. Each command goes through the installed console script's entry point (looked up in the
installed metadata, so it is whatever `[project.scripts] tuichat` names) with its stdout and
stderr captured as text and its exit status as the script would exit with it. What this
saves is a fresh interpreter and the runtime's imports per command. tests/cli_helpers.py runs
commands with `run` in the test's own process, and this script where an event loop runs there.

What a command prints goes where `print` writes (sys.stdout, sys.stderr), captured per
command; the driver's own stdout and stderr stay empty, so anything written around the
capture (to a stream bound before it, or to the file descriptors) shows there.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any


def console_script() -> Callable[..., Any]:
    [script] = [ep for ep in entry_points(group="console_scripts") if ep.name == "tuichat"]
    return script.load()  # type: ignore[no-any-return]


def run(main: Callable[..., Any], argv: list[str]) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse: usage errors, --help, --version
            code = exit.code
        # As sys.exit(code) would: None is 0, an int is itself, anything else is printed and 1.
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
    return {"argv": argv, "status": code or 0, "stdout": out.getvalue(), "stderr": err.getvalue()}


def main(commands_path: str, results_path: str) -> int:
    with open(commands_path, encoding="utf-8") as file:
        commands = json.load(file)
    script = console_script()
    with open(results_path, "w", encoding="utf-8") as results:
        for argv in commands:
            results.write(json.dumps(run(script, argv)) + "\n")
            results.flush()
    return 0


if __name__ == "__main__":
    # As for the console script, the script's own folder (tests/) is no place to import from.
    del sys.path[0]
    raise SystemExit(main(*sys.argv[1:]))
