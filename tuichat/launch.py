"""`tuichat`: the console script and `python -m tuichat`, above both front ends.

It parses the command line, then starts the app (no command) or runs a CLI command. It
imports neither front end until it knows which one it needs, and nothing heavy itself: the
parser is argparse alone, so `tuichat` with no command reaches Textual without loading the
pipe runtime (pydantic, the loader, pip's helpers), and a command loads only what it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from tuichat.cli.parser import build_parser

    args = build_parser().parse_args(argv)
    if args.command is None:
        return start_app(args)
    from tuichat.cli import execute

    return execute(args)


def start_app(args: argparse.Namespace) -> int:
    """The Textual app on `--db` (else $TUICHAT_DB, else the user data folder)."""
    from pathlib import Path

    from tuichat.store import default_db_path
    from tuichat.ui.app import run_app

    return run_app(Path(args.db) if args.db else default_db_path(), watch=[Path(p) for p in args.watch], fresh=args.new)
