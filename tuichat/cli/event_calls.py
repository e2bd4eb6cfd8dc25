"""`tuichat run`'s answers to a pipe's `__event_call__`: the --reply values in order, or the
question asked at the terminal, as Open WebUI's dialogs would; with neither (stdin is not a
terminal) the pipe gets an error dict at once and never hangs."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from tuichat.cli.commands import parse_json
from tuichat.cli.live_output import LiveOutput
from tuichat.runtime.invocation.invoke import EventCallHandler
from tuichat.runtime.reply.event_call_request import EventCallRequest, read_event_call
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


def event_call_handler(args: argparse.Namespace, message_from_stdin: bool, live: LiveOutput | None) -> EventCallHandler | None:
    if args.reply:
        return scripted_replies(args.reply)
    if not message_from_stdin and sys.stdin.isatty() and sys.stderr.isatty():
        return TerminalPrompts(live)
    return None  # the pipe gets an error dict at once and never hangs
