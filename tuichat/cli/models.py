"""`tuichat models`: every model the stored pipes offer."""

from __future__ import annotations

import argparse
import sys

from tuichat.cli.output import dump_json, table
from tuichat.runtime.host import PipeHost
from tuichat.runtime.reply.present import first_line, pipe_id_of


async def models_command(args: argparse.Namespace, host: PipeHost) -> int:
    listing = await host.list_models()
    if args.json:
        print(dump_json(listing.models, indent=2))
    else:
        table(("MODEL", "NAME", "FUNCTION"), [(m["id"], m["name"], pipe_id_of(m["id"])) for m in listing.models])
    for function_id, error in listing.errors.items():
        print(f"tuichat: {function_id}: {first_line(error, 200)}", file=sys.stderr)
    return 0
