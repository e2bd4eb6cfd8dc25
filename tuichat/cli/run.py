"""`tuichat run`: one message to one model, the reply streamed to stdout.

By default the visible reply goes to stdout as it arrives and everything else
(events, reasoning, errors) to stderr, one line each, so `tuichat run m "hi" >
reply.txt` keeps just the reply. `--jsonl` prints the conformance trace instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from tuichat.cli.commands import UsageError, parse_json
from tuichat.cli.output import describe_call, describe_event, dump_json
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.invoke import EventCallHandler
from tuichat.runtime.invocation.trace import CallStep, EventStep, Step
from tuichat.runtime.reply.model import Reply, Update
from tuichat.runtime.turn import Turn


def scripted_replies(raw: list[str]) -> EventCallHandler:
    """Answers `__event_call__` from --reply values in order; the last one repeats."""
    replies = [parse_json(text, "--reply") for text in raw]

    async def answer(event: dict[str, Any]) -> Any:
        return replies.pop(0) if len(replies) > 1 else replies[0]

    return answer


async def ask_on_terminal(event: dict[str, Any]) -> Any:
    """Answers a confirmation or input at the terminal, as Open WebUI's dialogs would."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    title = data.get("title") or ""
    message = data.get("message") or ""
    print(f"\n[{event.get('type')}] {title}\n{message}".rstrip(), file=sys.stderr)
    if event.get("type") == "confirmation":
        answer = await asyncio.to_thread(input, "Confirm? [y/N] ")
        return answer.strip().lower() in ("y", "yes")
    options = data.get("options") or (data.get("input") or {}).get("options")
    if options:
        print("options: " + ", ".join(str(o.get("value", o) if isinstance(o, dict) else o) for o in options), file=sys.stderr)
    hint = f" [{data.get('value')}]" if data.get("value") else ""
    try:
        answer = await asyncio.to_thread(input, f"{data.get('placeholder') or 'answer'}{hint} (empty line + ctrl-d cancels): ")
    except EOFError:
        return False
    return answer or data.get("value") or ""


class LiveOutput:
    """Prints a reply as it streams: text to stdout, the rest to stderr."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.out, self.err = out, err
        self.printed = False
        self.mid_line = False
        self.thinking = False

    def show(self, step: Step, update: Update, reply: Reply) -> None:
        if update.reasoning:
            if not self.thinking:
                self.err.write("[thinking] ")
                self.thinking = True
            self.err.write(update.reasoning)
            self.err.flush()
        if update.replaced:
            self._text(("\n" if self.mid_line else "") + reply.content)
        elif update.text:
            self._text(update.text)
        if update.event is not None:
            self._line(describe_call(step.event, step.reply) if isinstance(step, CallStep) else self._event_line(step, update))

    def _event_line(self, step: Step, update: Update) -> str:
        if isinstance(step, EventStep):
            return describe_event(step.event)
        entry = update.event
        if entry is not None and entry.kind == "event":
            return describe_event(entry.data)
        return ""

    def _text(self, text: str) -> None:
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        self.out.write(text)
        self.out.flush()
        self.printed = True
        self.mid_line = bool(text) and not text.endswith("\n")

    def _line(self, text: str) -> None:
        if not text:
            return
        if self.thinking:
            self.err.write("\n")
            self.thinking = False
        self.err.write(text + "\n")
        self.err.flush()

    def finish(self, reply: Reply) -> None:
        if self.thinking:
            self.err.write("\n")
        if self.mid_line:
            self.out.write("\n")
        self.out.flush()
        if reply.usage:
            self._line(f"[usage] {dump_json(reply.usage)}")
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
    )
    try:
        await turn.prepare()
    except LookupError as exc:
        raise UsageError(str(exc.args[0])) from None
    live = None if args.jsonl else LiveOutput()
    try:
        async for step, update in turn.run():
            if live is None:
                print(dump_json(step.to_json()), flush=True)
            else:
                live.show(step, update, turn.reply)
    except asyncio.CancelledError:
        turn.cancel()
        raise
    reply = turn.reply
    if live is None:
        print(dump_json({"reply": reply.to_json()}), flush=True)
    else:
        live.finish(reply)
    return 1 if reply.status == "error" else 0
