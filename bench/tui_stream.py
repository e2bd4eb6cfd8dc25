"""Streaming a long Markdown reply into the TUI: `python bench/tui_stream.py`.

A ~12,000-character LLM-like reply (headings, paragraphs, lists, code fences, tables),
cut into 4-character tokens, goes through the path the app uses: each token is an SSE
line fed to a `ReplyBuilder`, and each step's update reaches the view. The view is added
to the app's `Conversation` (bottom-anchored), in a headless 100x40 app.

- tuichat: `ReplyView.apply(update)` per step, then `await ReplyView.finish(finished)`,
           as the chat screen does;
- below:   the same, in a chat that holds the same reply already (a question, then the
           stored answer), as the next reply of a long answer's chat is streamed: what a
           layout walks above the reply counts;
- naive:   every token straight into `MarkdownStream.write`, then `stream.stop()` and one
           full `update()`, which a reply with fences needs to be shown right (Textual's
           incremental append can leave a stale fence); tuichat's segments need none. The
           ratio shows what coalescing, segments and folding buy.

Printed as medians of several runs, with the targets:
- paced at 60 tokens/s: process CPU time / wall time from the first token until the
  view has fully rendered (% of one core), event-loop stalls (how late a 10 ms heartbeat
  wakes: p95 and max, while tokens stream and over the whole run, finish included),
  how long after the last token the view has fully rendered, and the display lag: for
  each token, the time from its arrival to the first screen update that shows it (its
  visible characters: white space at the end of the text shows nothing) (p95);
- unpaced: time from the first token until the view has fully rendered.

Headless, so the final write to the terminal is skipped; layout and rendering are not.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Markdown  # noqa: E402

from tuichat.runtime.invocation.codec import chunk_line  # noqa: E402
from tuichat.runtime.invocation.trace import SseStep  # noqa: E402
from tuichat.runtime.reply.builder import ReplyBuilder  # noqa: E402
from tuichat.runtime.reply.model import Reply  # noqa: E402
from tuichat.ui.widgets.conversation import Conversation  # noqa: E402
from tuichat.ui.widgets.reply import ReplyView  # noqa: E402
from tuichat.ui.widgets.reply_text import ReplyText  # noqa: E402
from tuichat.ui.widgets.user_message import UserMessage  # noqa: E402

RATE = 60.0  # tokens per second for the paced run
TOKEN_CHARS = 4
HEARTBEAT = 0.010
TARGET_CPU = 15.0  # % of one core at 60 tokens/s
TARGET_STALL_P95 = 0.025
TARGET_STALL_MAX = 0.100
TARGET_FAST = 2.0  # seconds to render the whole reply when tokens come as fast as possible
TARGET_DISPLAY_P95 = 0.050  # a token on screen within this long of its arrival

WORDS = (
    "the model streams tokens into a widget that parses markdown blocks and mounts them while "
    "the user keeps typing so every frame must stay cheap on a small machine over ssh with a "
    "slow terminal and a long conversation above it"
).split()


def make_reply(sections: int = 20, seed: int = 7) -> str:
    """An LLM-like Markdown answer: per section a heading, paragraphs, a list, a fence, a table."""
    rng = random.Random(seed)

    def sentence() -> str:
        words = rng.choices(WORDS, k=rng.randint(5, 11))
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = f"**{rng.choice(WORDS)}**"
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = f"`{rng.choice(WORDS)}()`"
        return " ".join(words).capitalize() + "."

    out = ["Here is a detailed answer, step by step.\n"]
    for n in range(1, sections + 1):
        out.append(f"## {n}. {' '.join(rng.choices(WORDS, k=3)).title()}\n")
        out += [" ".join(sentence() for _ in range(2)) + "\n" for _ in range(2)]
        out.append("\n".join(f"- {sentence()}" for _ in range(3)) + "\n")
        out.append(
            f"```python\ndef step_{n}(items: list[str]) -> int:\n"
            f"    total = 0\n    for item in items:\n        total += len(item) * {n}\n    return total\n```\n"
        )
        rows = "\n".join(f"| `{rng.choice(WORDS)}` | {rng.randint(1, 999)} | {rng.choice(WORDS)} |" for _ in range(3))
        out.append(f"| Name | Count | Note |\n|------|------:|------|\n{rows}\n")
    return "\n".join(out)


def sse_steps(text: str) -> list[SseStep]:
    return [SseStep(chunk_line("bench", text[i : i + TOKEN_CHARS])) for i in range(0, len(text), TOKEN_CHARS)]


class BenchApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Conversation()


@dataclass
class Figures:
    cpu: float  # % of one core, first token to fully rendered
    stall_p95: float  # heartbeat lateness while tokens stream, seconds
    stall_max: float
    stall_max_all: float  # including the finish
    lag: float  # last token to fully rendered, seconds
    total: float  # first token to fully rendered, seconds
    display_p95: float = 0.0  # a token's arrival to the first screen update showing it, seconds
    display_max: float = 0.0


class Tuichat:
    """The app's path: `apply` every step's update, then `finish`."""

    def __init__(self, builder: ReplyBuilder) -> None:
        self.builder = builder
        self.view = ReplyView(streaming=True, model_name="bench")

    async def mount(self, log: Conversation) -> None:
        await log.add(self.view)

    async def feed(self, step: SseStep) -> str:
        update = self.builder.feed(step)
        self.view.apply(update)
        await asyncio.sleep(0)  # the app's worker awaits the next step
        return update.text

    async def finish(self) -> None:
        await self.view.finish(self.builder.finish())

    def shown(self) -> int:
        """How many characters of text the screen holds now (cheaply: it is asked at every
        screen update, and what the bench costs must not count as the app's)."""
        return len(self.view.query_one(ReplyText).shown)


class Below(Tuichat):
    """The app's path, below a question and the same reply, stored."""

    earlier = ""  # the stored reply's text: the one streamed (set by `child`)

    async def mount(self, log: Conversation) -> None:
        await log.add(UserMessage("An earlier question"))
        await log.add(ReplyView(Reply(content=self.earlier), model_name="bench"))
        await super().mount(log)


class Naive:
    """Every token straight into `MarkdownStream.write`; then a full re-render for the fences."""

    def __init__(self, builder: ReplyBuilder) -> None:
        self.builder = builder
        self.markdown = Markdown()
        self.stream = Markdown.get_stream(self.markdown)

    async def mount(self, log: Conversation) -> None:
        await log.add(self.markdown)

    async def feed(self, step: SseStep) -> str:
        text = self.builder.feed(step).text
        await self.stream.write(text)
        return text

    async def finish(self) -> None:
        await self.stream.stop()
        await self.markdown.update(self.builder.finish().reply.content)

    def shown(self) -> int:
        return len(self.markdown.source)


VARIANTS: dict[str, type[Tuichat | Naive]] = {"tuichat": Tuichat, "below": Below, "naive": Naive}


async def run_once(variant: str, steps: list[SseStep], rate: float | None) -> Figures:
    app = BenchApp()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(Conversation)
        sink = VARIANTS[variant](ReplyBuilder())
        await sink.mount(log)
        log.anchor()
        await pilot.pause()
        # As the app's conversation does once a chat is shown (closed_chats.py): what lives as
        # long as the chat is kept out of later full passes, such as the one at a reply's end.
        gc.collect()
        gc.freeze()

        lateness: list[tuple[float, float]] = []
        running = True

        async def heartbeat() -> None:
            while running:
                before = time.perf_counter()
                await asyncio.sleep(HEARTBEAT)
                lateness.append((before, time.perf_counter() - before - HEARTBEAT))

        # Every screen update (headless: rendered, not written to a terminal), with how much
        # text the screen held then.
        displays: list[tuple[float, int]] = []
        display = app._display

        def recording_display(screen: object, renderable: object) -> None:
            if renderable is not None and not app._batch_count:
                displays.append((time.perf_counter(), sink.shown()))
            display(screen, renderable)  # type: ignore[arg-type]

        app._display = recording_display  # type: ignore[method-assign]
        arrivals: list[tuple[float, int]] = []  # (arrival, characters shown once it is)
        received = ""
        beat = asyncio.create_task(heartbeat())
        cpu_start, start = time.process_time(), time.perf_counter()
        for index, step in enumerate(steps):
            if rate is not None:
                await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
            arrived = time.perf_counter()
            received += await sink.feed(step)
            # A token is on screen once its visible characters are: white space at the end of
            # the text shows nothing (tuichat holds it back until more text comes).
            arrivals.append((arrived, len(received.rstrip())))
        last_token = time.perf_counter()
        await sink.finish()
        await pilot.pause()
        done = time.perf_counter()
        cpu = time.process_time() - cpu_start
        running = False
        await beat

    streaming = sorted(late for at, late in lateness if at < last_token) or [0.0]
    shown_lags = sorted(_display_lags(arrivals, displays, last_token)) or [0.0]
    return Figures(
        display_p95=shown_lags[int(0.95 * (len(shown_lags) - 1))],
        display_max=shown_lags[-1],
        cpu=100 * cpu / (done - start),
        stall_p95=streaming[int(0.95 * (len(streaming) - 1))],
        stall_max=streaming[-1],
        stall_max_all=max(late for _, late in lateness),
        lag=done - last_token,
        total=done - start,
    )


def _display_lags(arrivals: list[tuple[float, int]], displays: list[tuple[float, int]], end: float) -> list[float]:
    """Per token streamed before `end`: arrival to the first screen update holding its text."""
    lags, first = [], 0
    for arrived, needed in arrivals:
        while first < len(displays) and displays[first][0] < arrived:
            first += 1  # arrivals come in order: earlier updates can't show later tokens
        found = next((at for at, shown in displays[first:] if shown >= needed), None)
        if found is not None and arrived < end:
            lags.append(found - arrived)
    return lags


def median(runs: list[Figures], name: str) -> float:
    return statistics.median(getattr(run, name) for run in runs)


def check(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def measure(variant: str, paced: bool, args: argparse.Namespace) -> Figures:
    """One run in a fresh process: Textual keeps every finished test app alive (through its
    print capture), so runs sharing a process would each pay for a bigger heap than the last."""
    command = [sys.executable, __file__, "--child", variant, "--sections", str(args.sections)]
    command += ["--interval", str(ReplyView.MIN_INTERVAL)] + (["--paced"] if paced else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return Figures(**json.loads(output.splitlines()[-1]))


async def child(args: argparse.Namespace) -> None:
    Below.earlier = make_reply(args.sections)
    steps = sse_steps(Below.earlier)
    # Warm up as a second reply of a session would be: imports, CSS, and Pygments' first
    # unknown-lexer lookup (a half-streamed fence info string), which scans plugins once.
    await run_once(args.child, steps[:200], RATE)
    figures = await run_once(args.child, steps, RATE if args.paced else None)
    print(json.dumps(asdict(figures)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sections", type=int, default=20, help="20 sections are about 12,000 characters")
    parser.add_argument("--interval", type=float, help="override ReplyView.MIN_INTERVAL (seconds)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--paced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.interval is not None:
        ReplyView.MIN_INTERVAL = args.interval
    if args.child:
        asyncio.run(child(args))
        return

    text = make_reply(args.sections)
    steps = sse_steps(text)
    print(f"reply: {len(text):,} chars, {len(steps):,} tokens of {TOKEN_CHARS} chars, "
          f"{text.count('```') // 2} fences; writes at most every {ReplyView.MIN_INTERVAL * 1000:.0f} ms; "
          f"medians of {args.runs} runs, each in a fresh process; {os.cpu_count()} CPUs", flush=True)
    load_before = os.getloadavg()[0]
    paced = {name: [measure(name, True, args) for _ in range(args.runs)] for name in VARIANTS}
    fast = {name: [measure(name, False, args) for _ in range(args.runs)] for name in ("tuichat", "naive")}

    print(f"\nat {RATE:.0f} tokens/s ({len(steps) / RATE:.1f} s of tokens):")
    print(f"{'':10}{'CPU %core':>11}{'stall p95':>11}{'stall max':>11}{'max w/ finish':>15}{'render lag':>12}"
          f"{'shown p95':>11}{'shown max':>11}")
    for name, runs in paced.items():
        print(f"{name:10}{median(runs, 'cpu'):10.1f}%{median(runs, 'stall_p95') * 1000:9.0f}ms"
              f"{median(runs, 'stall_max') * 1000:9.0f}ms{median(runs, 'stall_max_all') * 1000:13.0f}ms"
              f"{median(runs, 'lag'):11.2f}s{median(runs, 'display_p95') * 1000:9.0f}ms"
              f"{median(runs, 'display_max') * 1000:9.0f}ms")
    print(f"{'target':10}{TARGET_CPU:10.0f}%{TARGET_STALL_P95 * 1000:9.0f}ms{TARGET_STALL_MAX * 1000:9.0f}ms"
          f"{TARGET_STALL_MAX * 1000:13.0f}ms{'':12}{TARGET_DISPLAY_P95 * 1000:9.0f}ms")
    print("\nas fast as possible (first token to fully rendered):")
    for name, runs in fast.items():
        print(f"{name:10}{median(runs, 'total'):7.2f}s   (CPU {median(runs, 'cpu'):.0f}% of a core)")
    print(f"{'target':10}{TARGET_FAST:7.2f}s")

    ours, naive = paced["tuichat"], paced["naive"]
    print()
    for name in ("tuichat", "below"):
        runs = paced[name]
        print(f"{name} vs targets: "
              f"CPU {check(median(runs, 'cpu'), TARGET_CPU)}, "
              f"stall p95 {check(median(runs, 'stall_p95'), TARGET_STALL_P95)}, "
              f"stall max {check(median(runs, 'stall_max'), TARGET_STALL_MAX)} "
              f"(with finish {check(median(runs, 'stall_max_all'), TARGET_STALL_MAX)}), "
              f"token shown p95 {check(median(runs, 'display_p95'), TARGET_DISPLAY_P95)}"
              + (f", fast render {check(median(fast['tuichat'], 'total'), TARGET_FAST)}" if name == "tuichat" else ""))
    print(f"load average (1 min) before/after: {load_before:.2f}/{os.getloadavg()[0]:.2f} "
          "(other processes' load skews every figure)")
    print(f"naive / tuichat: CPU x{median(naive, 'cpu') / median(ours, 'cpu'):.1f}, "
          f"stall p95 x{median(naive, 'stall_p95') / max(median(ours, 'stall_p95'), 1e-4):.1f}, "
          f"fast render x{median(fast['naive'], 'total') / median(fast['tuichat'], 'total'):.1f}")


if __name__ == "__main__":
    main()
