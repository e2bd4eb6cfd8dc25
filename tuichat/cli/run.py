"""`tuichat run`: one message to one model, the reply streamed to stdout.

By default the visible reply goes to stdout as it arrives and everything else
(events, reasoning, errors) to stderr, one line each, so `tuichat run m "hi" >
reply.txt` keeps just the reply. `--jsonl` prints the conformance trace instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tuichat.cli.commands import UsageError, parse_json, resolve_chat
from tuichat.cli.event_calls import event_call_handler
from tuichat.cli.live_output import LiveOutput
from tuichat.cli.output import dump_json
from tuichat.runtime.attachments import Attachment, AttachmentError, read_attachment
from tuichat.runtime.chatpath.request import parse_param
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.trace import Step
from tuichat.runtime.reply.model import ActivityEntry
from tuichat.runtime.reply.present import describe_entry
from tuichat.runtime.reply_saving import save_problem_text
from tuichat.runtime.turn import Turn


async def say_where_stopped(turn: Turn, live: LiveOutput) -> None:
    """ctrl+c during a filter hook: which one it stopped (a second ctrl+c does not wait)."""
    report = getattr(turn.invocation, "stop_report", None)
    for step in await report() if report is not None else []:
        live.line(str(describe_entry(ActivityEntry(step.at, "log", getattr(step, "record", {})))))


async def read_message(args: argparse.Namespace) -> str:
    if args.message is not None:
        return args.message
    text = await asyncio.to_thread(sys.stdin.read)
    if not text.strip():
        raise UsageError("no message: give it as an argument or on stdin")
    return text.rstrip("\n")


def chat_params(given: list[str]) -> dict[str, Any]:
    """`--param KEY=VALUE`s as a dict (VALUE is JSON when it parses)."""
    params: dict[str, Any] = {}
    for text in given:
        try:
            key, value = parse_param(text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        params[key] = value
    return params


async def run_background_tasks(host: PipeHost, turn: Turn, live: LiveOutput | None, *, first_exchange: bool) -> None:
    """`--tasks`: Open WebUI's background tasks after the reply (those the settings enable);
    each result is a `{"follow_ups"|"title"|"tags": ...}` line before the reply line, or
    a `[follow-ups]`, `[title]`, `[tags]` line on stderr."""
    from tuichat.runtime.background.after_reply import FollowUps, Tagged, Titled, after_reply

    context = turn.context
    if turn.reply.status != "done" or context.chat is None or context.reply_message is None:
        return
    outcomes = after_reply(host, context.chat.id, context.reply_message.id, turn.model_id, first_exchange=first_exchange)
    async with contextlib.aclosing(outcomes):
        async for outcome in outcomes:
            if isinstance(outcome, FollowUps):
                key, value, text = "follow_ups", outcome.suggestions, "\n".join(f"  › {s}" for s in outcome.suggestions)
            elif isinstance(outcome, Titled):
                key, value, text = "title", outcome.chat.title, outcome.chat.title
            else:
                assert isinstance(outcome, Tagged)
                key, value, text = "tags", outcome.tags, ", ".join(outcome.tags)
            if live is None:
                print(dump_json({key: value}), flush=True)
            else:
                _say(live, f"[{key.replace('_', '-')}]{chr(10) if key == 'follow_ups' else ' '}{text}")


def read_attachments(files: list[str], images: list[str]) -> list[Attachment]:
    """`--file`s then `--image`s, each read and checked now, before anything is stored."""
    try:
        return [read_attachment(Path(p), "file") for p in files] + [read_attachment(Path(p), "image") for p in images]
    except AttachmentError as exc:
        raise UsageError(str(exc)) from None


async def run_command(args: argparse.Namespace, host: PipeHost) -> int:
    if args.tasks and args.no_save:
        raise UsageError("--tasks needs a stored chat (the tasks read it back): drop --no-save")
    attachments = read_attachments(args.file, args.image)
    for attachment in attachments:
        if attachment.note:
            print(f"[attach] {attachment.note}", file=sys.stderr, flush=True)
    metadata = parse_json(args.metadata, "--metadata", want=dict) if args.metadata else None
    user_overrides = parse_json(args.user, "--user", want=dict) if args.user else None
    live = None if args.jsonl else LiveOutput()
    host.log.listen(lambda line: _say(live, f"[host] {line.text}"))  # what no call claimed, on stderr
    handler = event_call_handler(args, message_from_stdin=args.message is None, live=live)
    text = await read_message(args)
    user = {**await host.store.users.local(), **user_overrides} if user_overrides else None
    chat_id = await resolve_chat(host.store, args.chat) if args.chat else None
    turn = Turn(
        host,
        args.model,
        text,
        chat_id=chat_id,
        system=args.system,
        stream=not args.no_stream,
        save=not args.no_save,
        metadata=metadata,
        user=user,
        event_call=handler,
        trace=print_step if live is None else None,
        on_save_problem=lambda error: _say(live, f"[save] {save_problem_text(error)}" if error else "[save] saved"),
        bare=args.bare,
        filter_ids=args.filter,
        tool_ids=args.tool,
        params=chat_params(args.param),
        origin="run",  # the app lists these apart, under the chats a user had
        attachments=attachments,
    )
    with interrupted_by_signals(turn) as signals:
        try:
            await turn.prepare()
        except LookupError as exc:
            raise UsageError(str(exc.args[0])) from None
        # aclosing: however the loop ends, the turn saves its reply before the store closes.
        async with contextlib.aclosing(turn.run()) as updates:
            try:
                async for update in updates:
                    if live is not None:
                        live.show(update)
            except asyncio.CancelledError:  # ctrl+c: the reply is saved as stopped
                if live is not None:
                    await say_where_stopped(turn, live)
                turn.cancel()
                if turn.unsaved:
                    _recover(turn, live)
                raise
        assert turn.finished is not None
        if args.tasks:
            await run_background_tasks(host, turn, live, first_exchange=chat_id is None)
        if live is None:
            print(dump_json({"reply": turn.reply.to_json()}), flush=True)
        else:
            live.finish(turn.finished)
        if turn.interrupted is not None:
            _say(live, f"[interrupted] {turn.interrupted}: the reply ends here; what arrived is kept")
        if turn.unsaved:
            _say(live, "[save] waiting for the database to take the reply (SIGTERM writes it to a file instead)")
            if not await turn.flush(SIGNAL_PATIENCE if signals else SAVE_PATIENCE):
                _recover(turn, live)
                return EXIT_USAGE
    if signals:
        return 128 + signals[0]
    return 1 if turn.reply.status == "error" else 0


# Seconds `tuichat run` waits, once the reply has ended, for a database that will not take it
# (locked, full) before writing the reply to a recovery file; after SIGTERM or SIGHUP, less.
SAVE_PATIENCE = 60.0
SIGNAL_PATIENCE = 2.0
EXIT_USAGE = 2


@contextlib.contextmanager
def interrupted_by_signals(turn: Turn) -> Iterator[list[int]]:
    """SIGTERM and SIGHUP (an SSH drop) end the reply as 'interrupted', saved with what arrived;
    yields the signals received, in order."""
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        turn.interrupt(signal.Signals(signum).name)

    installed = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            continue
        installed.append(signum)
    try:
        yield received
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _recover(turn: Turn, live: LiveOutput | None) -> None:
    """Write the unsaved reply to a recovery file and say where."""
    try:
        path = turn.write_recovery()
    except OSError as error:
        _say(live, f"tuichat: the reply could not be saved ({turn.save_error}) nor written to a recovery file ({error})")
        return
    _say(live, f"tuichat: the reply could not be saved ({turn.save_error}); it was written to {path}")


def _say(live: LiveOutput | None, line: str) -> None:
    if live is not None:
        live.line(line)
    else:
        print(line, file=sys.stderr, flush=True)


def print_step(step: Step) -> None:
    """A step of the call as one line of the conformance trace format (a password's answer
    is already masked: `runtime.reply.masking`)."""
    print(dump_json(step.to_json()), flush=True)
