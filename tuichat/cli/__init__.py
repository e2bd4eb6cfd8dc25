"""The headless `tuichat` CLI: everything on the same runtime and store as the TUI.

Importing this package imports nothing: a command's modules, and the pipe runtime under
them, are imported when it runs (`execute`), so the launcher (`tuichat.launch`) can parse
the command line and start the app without paying for them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

EXIT_OK, EXIT_PIPE_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI alone: a command is required (`tuichat.launch.main` starts the app without one)."""
    from tuichat.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("a command is required (the app starts from `tuichat` itself)")
    return execute(args)


def execute(args: argparse.Namespace) -> int:
    """Run the parsed command; its exit status (0 success, 1 the pipe failed, 2 the command was
    wrong; `tuichat run` ended by SIGTERM or SIGHUP: 128 + the signal's number).

    A reader that goes away (`| head`, a hung-up terminal) ends nothing: what is printed after
    is dropped, quietly, and the command finishes as it would have (see `streams`). Control
    characters in what is printed (pipe output is untrusted) are shown, not obeyed (see
    `output.shown_streams`)."""
    from tuichat.cli.output import shown_streams
    from tuichat.streams import quiet_streams

    if needs_host(args):
        from pathlib import Path

        from tuichat.runtime.hostproc.spawn import spawn_early
        from tuichat.store.paths import default_db_path

        # Started now, the host imports on the other core while this process imports the runtime.
        spawn_early(Path(args.db) if args.db else default_db_path())
    with quiet_streams(), shown_streams():
        return _execute(args)


_HOST_ACTIONS = frozenset(
    ("add", "import", "show", "enable", "new", "duplicate", "restore", "link", "watch", "valves", "user-valves")
)


def needs_host(args: argparse.Namespace) -> bool:
    """Whether the command runs function code (a wrong guess costs a killed process)."""
    if args.command in ("run", "models"):
        return True
    return args.command in ("pipes", "tools") and getattr(args, "action", None) in _HOST_ACTIONS


def _execute(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from tuichat.cli.commands import UsageError, dispatch
    from tuichat.runtime.errors import FunctionLoadError, RuntimeErrorBase
    from tuichat.store import InvalidFunctionId, StoreError

    try:
        return asyncio.run(dispatch(args))
    except FunctionLoadError as error:
        print(f"tuichat: {error}", file=sys.stderr)
        if error.detail:
            print(error.detail.rstrip(), file=sys.stderr)
        return EXIT_PIPE_FAILED
    except (UsageError, StoreError, InvalidFunctionId, RuntimeErrorBase) as error:
        print(f"tuichat: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tuichat: interrupted", file=sys.stderr)
        return 130
