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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from tuichat.cli.commands import UsageError, parse_json, resolve_chat
from tuichat.cli.output import dump_json
from tuichat.runtime.attachments import Attachment, AttachmentError, read_attachment
from tuichat.runtime.chatpath.request import parse_param
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.invoke import EventCallHandler
from tuichat.runtime.invocation.trace import Step
from tuichat.runtime.reply.model import ActivityEntry, Finished, Update
from tuichat.runtime.reply.present import EventCallRequest, describe_entry, read_event_call, usage_line
from tuichat.runtime.turn import Turn, save_problem_text
from tuichat.runtime.untrusted import neutralise


def scripted_replies(raw: list[str]) -> EventCallHandler:
    """Answers `__event_call__` from --reply values in order; the last one repeats."""
    replies = [parse_json(text, "--reply") for text in raw]

    async def answer(event: dict[str, Any]) -> Any:
        return replies.pop(0) if len(replies) > 1 else replies[0]

    return answer


class TerminalPrompts:
    """Answers `__event_call__` at the terminal, as Open WebUI's dialogs would.

    While a question is open the reply's own output is held (`LiveOutput.hold`), so event
    lines from the pipe's background tasks never land inside the question; they follow
    the answer. A password is read without echo (getpass, on the terminal itself), and a
    select is asked again until the answer is one of its options.
    """

    def __init__(self, live: LiveOutput | None) -> None:
        self.live = live
        self._one_at_a_time = asyncio.Lock()  # questions from concurrent tasks wait their turn

    async def __call__(self, event: dict[str, Any]) -> Any:
        request = read_event_call(event)
        if request is None:
            return False
        async with self._one_at_a_time:
            if self.live is not None:
                self.live.hold()
            try:
                return await self._ask(request)
            finally:
                if self.live is not None:
                    self.live.release()

    async def _ask(self, request: EventCallRequest) -> Any:
        say(f"\n[{request.kind}] {request.title}\n{request.message}".rstrip())
        if request.kind == "confirmation":
            answer = await read_line("Confirm? [y/N] ")
            return answer is not None and answer.strip().lower() in ("y", "yes")
        if request.options:
            return await self._choose(request)
        hint = f" [{request.value}]" if request.value and not request.password else ""
        prompt = f"{request.placeholder or 'answer'}{hint} (ctrl-d cancels): "
        answer = await read_line(prompt, secret=request.password)
        if answer is None:
            return False  # Open WebUI's Cancel
        return answer or request.value or ""

    async def _choose(self, request: EventCallRequest) -> Any:
        """One of the options, by number, label or value; anything else is asked again."""
        for number, (label, value) in enumerate(request.options, 1):
            say(f"  {number}) {label}" + ("" if str(value) == label else f"  ({value})"))
        default = next((value for _, value in request.options if str(value) == request.value), None) if request.value else None
        hint = f" [{request.value}]" if default is not None else ""
        while True:
            answer = await read_line(f"choose 1-{len(request.options)}{hint} (ctrl-d cancels): ")
            if answer is None:
                return False
            answer = answer.strip()
            if not answer and default is not None:
                return default
            chosen = pick_option(request.options, answer)
            if chosen is not None:
                return chosen[1]
            say(f"'{answer}' is not one of the options: give a number from 1 to {len(request.options)}, or a label.")


def pick_option(options: list[tuple[str, Any]], answer: str) -> tuple[str, Any] | None:
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1]
    return next((o for o in options if answer in (o[0], str(o[1]))), None)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def read_line(prompt: str, *, secret: bool = False) -> str | None:
    """A line from the terminal (None at end of input). The prompt goes to stderr, like every
    line that is not the reply; a secret is read by getpass, which turns echo off."""
    def read() -> str:
        if secret:  # getpass writes to the terminal itself, past sys.stderr's ShownStream
            return getpass.getpass(neutralise(prompt), stream=sys.stderr)
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    try:
        return await asyncio.to_thread(read)
    except EOFError:
        return None


class LiveOutput:
    """Prints a reply as it streams: text to stdout, the rest to stderr, one line each.

    The reply is untrusted: the command's streams show its control characters rather than
    obey them (`cli.output.shown_streams`), chunk by chunk (a sequence split across chunks
    is no different: each character is shown on its own)."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        # Looked up now, not at import: a redirected stdout (a driver, a bench) is honoured.
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.mid_line = False
        self.thinking = False
        self._held: list[Callable[[], None]] | None = None  # output waiting while a question is open

    def hold(self) -> None:
        """Keep updates back until `release` (a question is being asked at the terminal)."""
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        if self.mid_line:  # the question starts on a line of its own
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False
        self._held = []

    def release(self) -> None:
        held, self._held = self._held or [], None
        for write in held:
            write()

    def show(self, update: Update) -> None:
        if self._held is not None:
            self._held.append(lambda: self.show(update))
            return
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
        # The call record is for --jsonl and the stored reply; stderr keeps to what happened.
        if update.event is not None and update.event.kind != "request":
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
        if self._held is not None:
            self._held.append(lambda: self._line(text))
            return
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
        self.release()
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

        for entry in filter_failures(reply.activity):
            self._line(f"[{entry.tag}] {entry.text}")
        if reply.error is not None:
            self._line(f"error: {reply.error}")
            if reply.traceback:
                self.err.write(reply.traceback.rstrip() + "\n")


async def say_where_stopped(turn: Turn, live: LiveOutput) -> None:
    """ctrl+c during a filter hook: which one it stopped (a second ctrl+c does not wait)."""
    report = getattr(turn.invocation, "stop_report", None)
    for step in await report() if report is not None else []:
        live.line(str(describe_entry(ActivityEntry(step.at, "log", getattr(step, "record", {})))))


def filter_failures(activity: list[Any]) -> list[Any]:
    """The chat-path filter hooks that failed or dropped chunks, the legacy tool calls that
    failed, and tools that raised or were stopped: the user must see which."""
    return [
        describe_entry(entry)
        for entry in activity
        if entry.kind == "log" and isinstance(entry.data, dict) and ("filter" in entry.data or "tool" in entry.data)
        and (entry.data.get("error") or entry.data.get("outcome"))
    ]  # fmt: skip


async def read_message(args: argparse.Namespace) -> str:
    if args.message is not None:
        return args.message
    text = await asyncio.to_thread(sys.stdin.read)
    if not text.strip():
        raise UsageError("no message: give it as an argument or on stdin")
    return text.rstrip("\n")


def event_call_handler(args: argparse.Namespace, message_from_stdin: bool, live: LiveOutput | None) -> EventCallHandler | None:
    if args.reply:
        return scripted_replies(args.reply)
    if not message_from_stdin and sys.stdin.isatty() and sys.stderr.isatty():
        return TerminalPrompts(live)
    return None  # the pipe gets an error dict at once and never hangs


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
