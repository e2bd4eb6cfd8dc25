"""The `tuichat` command line: words, options and help."""

from __future__ import annotations

import argparse

from tuichat import __version__

EPILOG = """\
exit status: 0 success, 1 the pipe failed, 2 the command was wrong
(bad arguments or JSON, unknown model or function, unusable database).
The database is --db, else $TUICHAT_DB, else the user data folder.
A pipe's frontmatter `requirements` are pip-installed into tuichat's own
environment when it is added, unless --offline or TUICHAT_OFFLINE=1."""

Commands = argparse._SubParsersAction  # type: ignore[type-arg]


def _db_option() -> argparse.ArgumentParser:
    """`--db` is also accepted after the command words (`tuichat run m hi --db x.db`)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help="the SQLite database to use")
    parent.add_argument(
        "--offline", action="store_true", default=argparse.SUPPRESS, help="install no packages (also TUICHAT_OFFLINE=1)"
    )
    return parent


DB_OPTION = _db_option()


def command(commands: Commands, name: str, help: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=help, parents=[DB_OPTION])  # type: ignore[no-any-return]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuichat",
        description="Run and test Open WebUI pipes in the terminal.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tuichat {__version__}")
    parser.add_argument("--db", metavar="PATH", help="the SQLite database to use")
    parser.add_argument("--offline", action="store_true", help="install no packages (also TUICHAT_OFFLINE=1)")
    parser.add_argument(
        "--watch", metavar="FILE.py", action="append", default=[],
        help="open the app with FILE.py linked to its pipe: each save of the file reloads it (repeatable)",
    )
    parser.add_argument("--new", action="store_true", help="open the app on a new chat (by default the last one opened comes back)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_pipes(commands)
    _add_models(commands)
    _add_run(commands)
    _add_chats(commands)
    _add_tasks(commands)
    _add_tools(commands)
    return parser


def _add_tools(commands: Commands) -> None:
    tools = commands.add_parser("tools", help="manage stored tools (class Tools modules)").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    add = command(tools, "add", "store a tool from a .py file (loaded first; a broken file is refused)")
    add.add_argument("file")
    add.add_argument("--id", help="tool id (default: the file name made a valid id)")
    add.add_argument("--name", help="display name (default: the frontmatter title, else the id)")
    add.add_argument("--replace", action="store_true", help="update the tool if the id is taken")
    command(tools, "list", "list stored tools").add_argument("--json", action="store_true")
    show = command(tools, "show", "a tool's details and errors")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    command(tools, "rm", "delete a tool").add_argument("id")
    _add_tool_workshop(tools)
    for name, what in (("valves", "the tool's valves"), ("user-valves", "your user valves for the tool")):
        valves = command(tools, name, f"show {what}, or set them")
        valves.add_argument("id")
        valves.add_argument("--set", metavar="JSON", help='an object of values to set; null resets a field, e.g. {"KEY": "v"}')
        valves.add_argument("--reset", action="store_true", help="clear every stored value (back to defaults)")
        valves.add_argument("--json", action="store_true", help="print the stored values as JSON")


def _add_tool_workshop(tools: Commands) -> None:
    """The pipes commands that make sense for a tool (the same code runs them)."""
    new = command(tools, "new", "create a tool from a template that works as it is (get_current_time, add)")
    new.add_argument("id")
    new.add_argument("--name", help="display name (default: the id)")
    command(tools, "export", "print a tool's stored source").add_argument("id")
    tools.choices["export"].set_defaults(all=False)
    for name, what in (("enable", "load a tool and activate it"), ("disable", "deactivate a tool"),
                       ("unlink", "stop keeping a tool in step with its file")):
        command(tools, name, what).add_argument("id")
    source_commands(tools, "tool", "tools")


def _add_tasks(commands: Commands) -> None:
    tasks = command(commands, "tasks", "show or switch the background tasks run after a reply (title, tags, follow-ups)")
    tasks.add_argument("task", nargs="?", choices=("title", "tags", "follow-ups"))
    tasks.add_argument("state", nargs="?", choices=("on", "off"))


def _add_models(commands: Commands) -> None:
    models = command(commands, "models", "list every model the stored pipes offer; set, show or reset a model's settings row")
    models.add_argument("--json", action="store_true", help="print the exact model dicts Open WebUI would build")
    settings = models.add_subparsers(dest="action", metavar="ACTION")
    put = command(settings, "set", "save a model's settings row (Open WebUI's model table): filters, tools, params")
    put.add_argument("model_id")
    put.add_argument("--filters", metavar="ID,ID", help="filters attached to the model (meta.filterIds)")
    put.add_argument("--tools", metavar="ID,ID", help="tools attached to the model (meta.toolIds)")
    put.add_argument("--json", dest="row", metavar="ROW", help='the row as Open WebUI stores it: {"name", "base_model_id", "meta", "params"}')
    command(settings, "show", "print a model's settings row as JSON").add_argument("model_id")
    command(settings, "reset", "delete a model's settings row (back to none)").add_argument("model_id")


def _add_run(commands: Commands) -> None:
    run = command(commands, "run", "send one message to a model and print the reply")
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
    run.add_argument("--chat", metavar="ID", help="continue a stored chat instead of starting one (a unique start of its id will do)")
    run.add_argument("--no-save", action="store_true", help="do not store this exchange as a chat")
    run.add_argument("--filter", metavar="ID", action="append", default=[], help="switch a toggle filter on for this message (filter_ids; repeatable)")
    run.add_argument("--tool", metavar="ID", action="append", default=[], help="give the pipe this tool (tool_ids; repeatable)")
    run.add_argument("--param", metavar="KEY=VALUE", action="append", default=[], help="a chat param (VALUE is JSON when it parses, else a string; repeatable); function_calling=legacy: the pipe picks the tools first (Open WebUI's legacy tool calling)")
    run.add_argument("--file", metavar="PATH", action="append", default=[], help="attach a text file (its text goes into the prompt as Open WebUI does; repeatable)")
    run.add_argument("--image", metavar="PATH", action="append", default=[], help="attach a PNG, JPEG, GIF or WebP image (sent as a data URL; repeatable)")
    run.add_argument("--bare", action="store_true", help="call the pipe function alone (no filters, Open WebUI's function-level call)")
    run.add_argument("--tasks", action="store_true", help="then run the background tasks `tuichat tasks` enables (follow-ups; a new chat's title and tags)")


def _add_chats(commands: Commands) -> None:
    chats = commands.add_parser("chats", help="stored chats").add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = command(chats, "list", "list chats, newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--tag", metavar="NAME", help="only the chats with this tag")
    show = command(chats, "show", "print a chat's messages")
    show.add_argument("id", help="a chat id, or a unique start of one")
    show.add_argument("--json", action="store_true")
    command(chats, "rm", "delete a chat").add_argument("id", help="a chat id, or a unique start of one")


def _add_pipes(commands: Commands) -> None:
    pipes = commands.add_parser("pipes", help="manage stored pipe functions").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    add = command(pipes, "add", "store a pipe from a .py file (loaded first; a broken file is refused)")
    add.add_argument("file")
    add.add_argument("--id", help="function id (default: the file name made a valid id)")
    add.add_argument("--name", help="display name (default: the frontmatter title, else the id)")
    add.add_argument("--replace", action="store_true", help="update the function if the id is taken")
    add.add_argument("--install-missing", action="store_true", help="also pip-install modules the code imports but lacks")
    add.add_argument("--yes", "-y", action="store_true", help="let an install change packages already installed (shown first; without it, such an install is refused)")
    imported = command(pipes, "import", "add every function of an Open WebUI functions export (.json)")
    imported.add_argument("file")
    imported.add_argument("--replace", action="store_true", help="update functions whose ids are taken")
    imported.add_argument("--install-missing", action="store_true", help="also pip-install modules the code lacks")
    imported.add_argument("--yes", "-y", action="store_true", help="let an install change packages already installed (shown first; without it, such an install is refused)")
    command(pipes, "list", "list stored functions").add_argument("--json", action="store_true")
    show = command(pipes, "show", "a function's details, models and errors")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")
    export = command(pipes, "export", "print a function's stored source, or --all as Open WebUI's export JSON")
    export.add_argument("id", nargs="?")
    export.add_argument("--all", action="store_true", help="every function, in Open WebUI's functions export format")
    command(pipes, "rm", "delete a function").add_argument("id")
    enable = command(pipes, "enable", "install what it needs, load it, and activate it")
    enable.add_argument("id")
    enable.add_argument("--install-missing", action="store_true", help="also pip-install modules the code lacks")
    enable.add_argument("--yes", "-y", action="store_true", help="let an install change packages already installed (shown first; without it, such an install is refused)")
    command(pipes, "disable", "deactivate a function").add_argument("id")
    make_global = command(pipes, "global", "make a filter run for every model (on) or only where attached (off)")
    make_global.add_argument("id")
    make_global.add_argument("state", choices=("on", "off"))
    new = command(pipes, "new", "create a function from a template that works as it is")
    new.add_argument("id")
    new.add_argument("--template", choices=("pipe", "manifold", "tool"), default="pipe", help="what to start from (default: pipe)")
    new.add_argument("--name", help="display name (default: the id)")
    source_commands(pipes, "function", "pipes")
    command(pipes, "unlink", "stop keeping a function in step with its file").add_argument("id")
    for name, what in (("valves", "show or set a function's admin valves"), ("user-valves", "show or set your own valves for a function")):
        valves = command(pipes, name, what)
        valves.add_argument("id")
        valves.add_argument("--set", metavar="JSON", help='an object of values to set; null resets a field, e.g. {"KEY": "v"}')
        valves.add_argument("--reset", action="store_true", help="clear every stored value (back to defaults)")
        valves.add_argument("--json", action="store_true", help="print the stored values as JSON")


def source_commands(group: Commands, noun: str, verb: str) -> None:
    """What pipes and tools share: copies, saved versions, and a .py file kept in step."""
    duplicate = command(group, "duplicate", f"copy a {noun} under a new id (default <id>_clone)")
    duplicate.add_argument("id")
    duplicate.add_argument("new_id", nargs="?")
    versions = command(group, "versions", f"list every saved version of a {noun}'s source, newest first")
    versions.add_argument("id")
    versions.add_argument("--json", action="store_true")
    restore = command(group, "restore", f"save an earlier version of a {noun}'s source again")
    restore.add_argument("id")
    restore.add_argument("version", type=int, help=f"a version number from `tuichat {verb} versions ID`")
    for name, what in (("link", f"keep a {noun} in step with a .py file (the app reloads it on every save)"),
                       ("watch", "link a .py file and reload it on every save, printing each result, until ctrl+c")):
        sub = command(group, name, what)
        sub.add_argument("file")
        sub.add_argument("--id", help=f"{noun} id (default: the file name made a valid id; created if new)")
    group.choices["watch"].add_argument("--interval", type=float, default=0.3, help=argparse.SUPPRESS)
