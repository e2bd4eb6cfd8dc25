"""`tuichat run`: one message to one model, the reply streamed to stdout.

By default the visible reply goes to stdout as it arrives and everything else
(events, reasoning, errors) to stderr, one line each, so `tuichat run m "hi" >
reply.txt` keeps just the reply. `--jsonl` prints the conformance trace instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import signal
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from tuichat.cli.commands import UsageError, parse_json
from tuichat.cli.output import dump_json
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.invoke import EventCallHandler
from tuichat.runtime.invocation.trace import Step
from tuichat.runtime.reply.model import Finished, Update
from tuichat.runtime.reply.present import describe_entry, read_event_call, usage_line
from tuichat.runtime.turn import Turn, save_problem_text


def scripted_replies(raw: list[str]) -> EventCallHandler:
    """Answers `__event_call__` from --reply values in order; the last one repeats."""
    replies = [parse_json(text, "--reply") for text in raw]

    async def answer(event: dict[str, Any]) -> Any:
        return replies.pop(0) if len(replies) > 1 else replies[0]

    return answer


async def ask_on_terminal(event: dict[str, Any]) -> Any:
    """Answers a confirmation or input at the terminal, as Open WebUI's dialogs would."""
    request = read_event_call(event)
    if request is None:
        return False
    print(f"\n[{request.kind}] {request.title}\n{request.message}".rstrip(), file=sys.stderr)
    if request.kind == "confirmation":
        answer = await asyncio.to_thread(input, "Confirm? [y/N] ")
        return answer.strip().lower() in ("y", "yes")
    if request.options:
        print("options: " + ", ".join(str(value) for _, value in request.options), file=sys.stderr)
    hint = f" [{request.value}]" if request.value and not request.password else ""
    prompt = f"{request.placeholder or 'answer'}{hint} (empty line + ctrl-d cancels): "
    read = getpass.getpass if request.password else input  # a password is never echoed
    try:
        answer = await asyncio.to_thread(read, prompt)
    except EOFError:
        return False
    return answer or request.value or ""


class LiveOutput:
    """Prints a reply as it streams: text to stdout, the rest to stderr, one line each."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        # Looked up now, not at import: a redirected stdout (a driver, a bench) is honoured.
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.mid_line = False
        self.thinking = False

    def show(self, update: Update) -> None:
        if update.reasoning:
            if not self.thinking:
                self.err.write("[thinking] ")
                self.thinking = True
            self.err.write(update.reasoning)
            self.err.flush()
        if update.replaced is not None:
            self._text(("\n" if self.mid_line else "") + update.replaced)
        elif update.text:
            self._text(update.text)
        if update.event is not None:
            self._line(str(describe_entry(update.event)))

    def _text(self, text: str) -> None:
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        self.out.write(text)
        self.out.flush()
        if text:
            self.mid_line = not text.endswith("\n")

    def line(self, text: str) -> None:
        """A line of its own on stderr (ending a line of reasoning first)."""
        self._line(text)

    def _line(self, text: str) -> None:
        if not text:
            return
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        self.err.write(text + "\n")
        self.err.flush()

    def finish(self, finished: Finished) -> None:
        self.show(finished.update)
        reply = finished.reply
        if self.thinking:
            self.err.write("\n")
        if self.mid_line:
            self.out.write("\n")
        self.out.flush()
        if reply.usage:
            self._line(f"[usage] {usage_line(reply.usage)}")
        if reply.status == "stopped":
            self._line("[stopped] the reply was stopped; what arrived is kept")

        if reply.error is not None:
            self._line(f"error: {reply.error}")
            if reply.traceback:
                self.err.write(reply.traceback.rstrip() + "\n")


async def read_message(args: argparse.Namespace) -> str:
    if args.message is not None:
        return args.message
    text = await asyncio.to_thread(sys.stdin.read)
    if not text.strip():
        raise UsageError("no message: give it as an argument or on stdin")
    return text.rstrip("\n")


def event_call_handler(args: argparse.Namespace, message_from_stdin: bool) -> EventCallHandler | None:
    if args.reply:
        return scripted_replies(args.reply)
    if not message_from_stdin and sys.stdin.isatty() and sys.stderr.isatty():
        return ask_on_terminal
    return None  # the pipe gets an error dict at once and never hangs


async def run_command(args: argparse.Namespace, host: PipeHost) -> int:
    metadata = parse_json(args.metadata, "--metadata", want=dict) if args.metadata else None
    user_overrides = parse_json(args.user, "--user", want=dict) if args.user else None
    handler = event_call_handler(args, message_from_stdin=args.message is None)
    text = await read_message(args)
    user = {**await host.store.users.local(), **user_overrides} if user_overrides else None
    live = None if args.jsonl else LiveOutput()
    turn = Turn(
        host,
        args.model,
        text,
        chat_id=args.chat,
        system=args.system,
        stream=not args.no_stream,
        save=not args.no_save,
        metadata=metadata,
        user=user,
        event_call=handler,
        trace=print_step if live is None else None,
        on_save_problem=lambda error: _say(live, f"[save] {save_problem_text(error)}" if error else "[save] saved"),
    )
    with interrupted_by_signals(turn) as signals:
        try:
            await turn.prepare()
        except LookupError as exc:
            raise UsageError(str(exc.args[0])) from None
        try:
            async for update in turn.run():
                if live is not None:
                    live.show(update)
        except asyncio.CancelledError:  # ctrl+c: the reply is saved as stopped
            turn.cancel()
            if turn.unsaved:
                _recover(turn, live)
            raise
        assert turn.finished is not None
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
    """A step of the call as one line of the conformance trace format."""
    print(dump_json(step.to_json()), flush=True)
