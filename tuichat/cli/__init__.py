"""The headless `tuichat` CLI: everything on the same runtime and store as the TUI."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from tuichat.cli.commands import UsageError, dispatch
from tuichat.cli.parser import build_parser
from tuichat.runtime.errors import FunctionLoadError, RuntimeErrorBase
from tuichat.store import InvalidFunctionId, StoreError

EXIT_OK, EXIT_PIPE_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from pathlib import Path

        from tuichat.store import default_db_path
        from tuichat.ui.app import run_app

        return run_app(Path(args.db) if args.db else default_db_path(), watch=[Path(p) for p in args.watch])
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
