"""The `tuichat` command line: words, options and help."""

from __future__ import annotations

import argparse

from tuichat import __version__

EPILOG = """\
exit status: 0 success, 1 the pipe failed, 2 the command was wrong
(bad arguments or JSON, unknown model or function, unusable database).
The database is --db, else $TUICHAT_DB, else the user data folder."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuichat",
        description="Run and test Open WebUI pipes in the terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tuichat {__version__}")
    parser.add_argument("--db", metavar="PATH", help="the SQLite database to use")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    _add_pipes(commands)

    models = commands.add_parser("models", help="list every model the stored pipes offer")
    models.add_argument("--json", action="store_true", help="print the exact model dicts Open WebUI would build")

    run = commands.add_parser("run", help="send one message to a model and print the reply")
    run.add_argument("model", help="a model id from `tuichat models` (a pipe id, or pipe_id.sub_id)")
    run.add_argument("message", nargs="?", help="the user message; read from stdin when omitted")
    run.add_argument("--no-stream", action="store_true", help='call the pipe with "stream": false')
    run.add_argument("--system", metavar="TEXT", help="a system prompt for this chat")
    run.add_argument("--metadata", metavar="JSON", help="an object merged into __metadata__ (it may set the ids)")
    run.add_argument("--user", metavar="JSON", help="an object merged into __user__ (e.g. to match a recorded trace)")
    run.add_argument(
        "--reply",
        metavar="JSON",
        action="append",
        default=None,
        help="answer to the next __event_call__, in order (repeatable; the last repeats)",
    )
    run.add_argument("--jsonl", action="store_true", help="print the trace, one step a line, then the reply")
    run.add_argument("--chat", metavar="ID", help="continue a stored chat instead of starting one")
    run.add_argument("--no-save", action="store_true", help="do not store this exchange as a chat")

    chats = commands.add_parser("chats", help="stored chats").add_subparsers(dest="action", metavar="ACTION", required=True)
    chats.add_parser("list", help="list chats, newest first").add_argument("--json", action="store_true")
    show = chats.add_parser("show", help="print a chat's messages")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    chats.add_parser("rm", help="delete a chat").add_argument("id")
    return parser


def _add_pipes(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    pipes = commands.add_parser("pipes", help="manage stored pipe functions").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    add = pipes.add_parser("add", help="store a pipe from a .py file (loaded first; a broken file is refused)")
    add.add_argument("file")
    add.add_argument("--id", help="function id (default: the file name made a valid id)")
    add.add_argument("--name", help="display name (default: the frontmatter title, else the id)")
    add.add_argument("--replace", action="store_true", help="update the function if the id is taken")
    pipes.add_parser("list", help="list stored functions").add_argument("--json", action="store_true")
    show = pipes.add_parser("show", help="a function's details, models and errors")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    pipes.add_parser("export", help="print a function's stored source").add_argument("id")
    pipes.add_parser("rm", help="delete a function").add_argument("id")
    pipes.add_parser("enable", help="load a function and activate it").add_argument("id")
    pipes.add_parser("disable", help="deactivate a function").add_argument("id")
    for name, what in (("valves", "admin valves"), ("user-valves", "your user valves")):
        valves = pipes.add_parser(name, help=f"show or set a function's {what}")
        valves.add_argument("id")
        valves.add_argument("--set", metavar="JSON", help='an object of values to set; null resets a field, e.g. {"KEY": "v"}')
        valves.add_argument("--reset", action="store_true", help="clear every stored value (back to defaults)")
        valves.add_argument("--json", action="store_true", help="print the stored values as JSON")
