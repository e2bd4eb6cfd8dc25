"""The headless `tuichat` CLI: everything on the same runtime and store as the TUI.

Importing this package imports nothing: a command's modules, and the pipe runtime under
them, are imported when it runs (`execute`), so the launcher (`tuichat.launch`) can parse
the command line and start the app without paying for them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

EXIT_OK, EXIT_PIPE_FAILED, EXIT_USAGE = 0, 1, 2
# What a shell reports for a process SIGPIPE ended: `tuichat ... | head` ends as `cat` would.
EXIT_READER_GONE = 128 + 13


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI alone: a command is required (`tuichat.launch.main` starts the app without one)."""
    from tuichat.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("a command is required (the app starts from `tuichat` itself)")
    return execute(args)


def execute(args: argparse.Namespace) -> int:
    """Run the parsed command; its exit status (0 success, 1 the pipe failed, 2 the command was wrong)."""
    import asyncio
    import sys

    from tuichat.cli.commands import UsageError, dispatch
    from tuichat.runtime.errors import FunctionLoadError, RuntimeErrorBase
    from tuichat.runtime.invocation.output import pipe_output_to_stderr
    from tuichat.store import InvalidFunctionId, StoreError

    try:
        with pipe_output_to_stderr():  # stdout is the command's own: what pipes print goes to stderr
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
    except BrokenPipeError:
        # The reader went away (`| head`, `| grep -m1`): end quietly, like any Unix tool.
        # The command has already closed its store; what remains is Python's own flush of
        # stdout and stderr at exit, which would fail again, so both now go nowhere.
        _discard_output()
        return EXIT_READER_GONE


def _discard_output() -> None:
    import os
    import sys

    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass  # not a real file (a test's capture): nothing to flush at exit
    os.close(devnull)
