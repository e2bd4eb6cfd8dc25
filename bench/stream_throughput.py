"""Streaming throughput of the pipe runtime: `python bench/stream_throughput.py`.

Streams N one-word chunks from a sync generator pipe and from an async
generator pipe through the runtime to SSE, and prints, as medians of several
runs measured side by side in this process:

- raw:        iterating the same generator and doing nothing with the items;
- raw+encode: iterating it and turning each item into its SSE line inline, on
              the event loop, the way Open WebUI itself does (the least work that
              gives the same bytes);
- in-process: the runtime path (load, valves, params, task, ordered channel, trace
              steps) run by the engine in this process, consumed by an async for;
- host:       the same through the pipe host process, as the app runs pipes: steps
              framed, sent over a socketpair and decoded here;
- cli run:    `tuichat run MODEL MESSAGE` in-process, as the command runs it (starting
              its host process each time): the turn, its reply built and saved to the
              store as it streams, each chunk printed (to a null device). Its cost must
              grow linearly with the reply. This is the chat path with no filter.
- cli+stream: the same with one global stream filter that returns each chunk as it
              got it: every chunk parsed, passed to the hook and encoded again (the
              chat path's per-chunk cost; it must not halve throughput). Its `ratio`
              column is cli run time over cli+stream time (host: in-process over host).
- cli+rewrite: the same with a stream filter that rewrites every chunk (upper-cases
              its content), so every chunk is counted as rewritten in the activity.

`--cli-only` measures only the three `cli` lines (to compare two checkouts quickly: run
each checkout's own copy of this script from its own folder, one after the other).

Then the first-token latency: a pipe that yields one word, from the call to its first
step, in-process and through the host (median of many calls).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuichat.runtime.engine import PipeEngine  # noqa: E402
from tuichat.runtime.host import PipeHost, make_body  # noqa: E402
from tuichat.runtime.invocation import codec  # noqa: E402
from tuichat.runtime.invocation.trace import SseStep  # noqa: E402
from tuichat.runtime.library import FunctionLibrary  # noqa: E402
from tuichat.runtime.records import StoreRecords  # noqa: E402
from tuichat.store import Store  # noqa: E402

SYNC_PIPE = """
class Pipe:
    def pipe(self, body: dict, __metadata__: dict):
        n = body.get("n") or __metadata__["n"]  # `tuichat run` passes it in the metadata
        for i in range(n):
            yield "word "
"""

ASYNC_PIPE = """
class Pipe:
    async def pipe(self, body: dict, __metadata__: dict):
        n = body.get("n") or __metadata__["n"]
        for i in range(n):
            yield "word "
"""


def sync_words(n: int):  # type: ignore[no-untyped-def]
    for _ in range(n):
        yield "word "


async def async_words(n: int):  # type: ignore[no-untyped-def]
    for _ in range(n):
        yield "word "


async def raw_sync(n: int) -> int:
    return sum(1 for _ in sync_words(n))


async def raw_async(n: int) -> int:
    return len([w async for w in async_words(n)])


async def encode_sync(n: int) -> int:
    return len([codec.process_line("bench_sync", w) for w in sync_words(n)])


async def encode_async(n: int) -> int:
    return len([codec.process_line("bench_async", w) async for w in async_words(n)])


PASS_FILTER = """
class Filter:
    def stream(self, event: dict) -> dict:
        return event
"""

REWRITE_FILTER = """
class Filter:
    def stream(self, event: dict) -> dict:
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                delta["content"] = delta["content"].upper()
        return event
"""

ONE_WORD = """
class Pipe:
    async def pipe(self, body: dict):
        yield "word"
"""


async def first_token(host: Any, model: str, calls: int) -> float:
    """Median seconds from starting a call to its first chunk."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        invocation = await host.invoke(model, make_body(model, [{"role": "user", "content": "go"}], stream=True))
        async for step in invocation:
            if isinstance(step, SseStep):
                times.append(time.perf_counter() - started)
                break
    return statistics.median(times)


def through_runtime(host: Any, model: str) -> Callable[[int], Any]:
    async def run(n: int) -> int:
        invocation = await host.invoke(model, make_body(model, [{"role": "user", "content": "go"}], stream=True, n=n))
        count = 0
        async for _ in invocation:
            count += 1
        return count - 2  # the stop chunk and [DONE]

    return run


def through_cli(db: Path, model: str) -> Callable[[int], Any]:
    """`tuichat run MODEL go` in-process, output to the null device."""
    import contextlib
    import os

    from tuichat.cli.output import shown_streams
    from tuichat.cli.parser import build_parser
    from tuichat.cli.run import run_command
    from tuichat.runtime.services import Services

    async def run(n: int) -> int:
        store = await Store.open(db)
        try:
            services = await Services.start(store)
            args = build_parser().parse_args(["run", model, "go", "--metadata", f'{{"n": {n}}}'])
            # Through the command's streams, as `tuichat run` prints (control characters shown).
            with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null), shown_streams():
                code = await run_command(args, services.host)
            messages = await store.chats.messages((await store.chats.list())[0].id)
            await services.close()
            return n if code == 0 and messages[-1].content.lower().count("word") == n else -1
        finally:
            await store.close()

    return run


async def measure(run: Callable[[int], Any], n: int) -> float:
    started = time.perf_counter()
    produced = await run(n)
    elapsed = time.perf_counter() - started
    if produced != n:
        raise AssertionError(f"expected {n} chunks, got {produced}")
    return elapsed


async def filtered_db(folder: str, name: str, source: str | None) -> Path:
    """A store with the async pipe and, when given, `source` as a global filter."""
    db = Path(folder) / f"{name}.db"
    store = await Store.open(db)
    async with PipeHost(store) as host:
        await FunctionLibrary(host).add(ASYNC_PIPE, function_id="bench_async")
        if source is not None:
            await FunctionLibrary(host).add(source, function_id=name)
    if source is not None:
        await store.functions.update(name, is_global=True)
    await store.close()
    return db


async def cli_only(n: int, repeats: int) -> None:
    """The three `cli` lines alone, interleaved."""
    with tempfile.TemporaryDirectory() as folder:
        runs = {
            "cli run": through_cli(await filtered_db(folder, "plain", None), "bench_async"),
            "cli+stream": through_cli(await filtered_db(folder, "bench_pass", PASS_FILTER), "bench_async"),
            "cli+rewrite": through_cli(await filtered_db(folder, "bench_upper", REWRITE_FILTER), "bench_async"),
        }
        times: dict[str, list[float]] = {path: [] for path in runs}
        for _ in range(repeats):
            for path, run in runs.items():
                times[path].append(await measure(run, n))
        print(f"{n:,} chunks per run, median of {repeats} runs (interleaved)")
        plain = statistics.median(times["cli run"])
        for path, values in times.items():
            seconds = statistics.median(values)
            print(f"{path:12} {seconds:9.4f} s {n / seconds:12,.0f} chunks/s {plain / seconds:8.0%} of cli run")


async def main(n: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(Path(folder) / "bench.db")
        host = PipeHost(store)
        engine = PipeEngine(StoreRecords(store))  # what the host process runs, run here
        library = FunctionLibrary(host)
        await library.add(SYNC_PIPE, function_id="bench_sync")
        await library.add(ASYNC_PIPE, function_id="bench_async")
        await library.add(ONE_WORD, function_id="bench_one")
        cli_db = Path(folder) / "cli.db"
        cli_store = await Store.open(cli_db)
        async with PipeHost(cli_store) as cli_host:
            await FunctionLibrary(cli_host).add(ASYNC_PIPE, function_id="bench_async")
        await cli_store.close()
        filter_db = await filtered_db(folder, "bench_pass", PASS_FILTER)
        rewrite_db = await filtered_db(folder, "bench_upper", REWRITE_FILTER)
        cases = {
            "sync generator": (raw_sync, encode_sync, through_runtime(engine, "bench_sync"), through_runtime(host, "bench_sync"), None, None, None),
            "async generator": (
                raw_async, encode_async, through_runtime(engine, "bench_async"), through_runtime(host, "bench_async"),
                through_cli(cli_db, "bench_async"), through_cli(filter_db, "bench_async"), through_cli(rewrite_db, "bench_async"),
            ),
        }  # fmt: skip
        print(f"{n:,} chunks per run, median of {repeats} runs (interleaved)\n")
        print(f"{'pipe':16} {'path':11} {'median s':>9} {'chunks/s':>12} {'x raw':>7} {'x raw+enc':>10} {'ratio':>8}")
        for label, (raw, encoded, local, remote, cli, filtered, rewritten) in cases.items():
            await measure(local, 1000)  # load the pipe once, outside the timing
            await measure(remote, 1000)
            times: dict[str, list[float]] = {"raw": [], "raw+encode": [], "in-process": [], "host": []}
            if cli is not None:
                times["cli run"] = []
            if filtered is not None and rewritten is not None:
                times["cli+stream"] = []
                times["cli+rewrite"] = []
            for _ in range(repeats):
                times["raw"].append(await measure(raw, n))
                times["raw+encode"].append(await measure(encoded, n))
                times["in-process"].append(await measure(local, n))
                times["host"].append(await measure(remote, n))
                if cli is not None:
                    times["cli run"].append(await measure(cli, n))
                if filtered is not None and rewritten is not None:
                    times["cli+stream"].append(await measure(filtered, n))
                    times["cli+rewrite"].append(await measure(rewritten, n))
            medians = {path: statistics.median(values) for path, values in times.items()}
            for path, seconds in medians.items():
                ratio = f"{medians['in-process'] / seconds:8.0%}" if path == "host" else ""
                if path in ("cli+stream", "cli+rewrite"):  # the stream filter's share: throughput kept
                    ratio = f"{medians['cli run'] / seconds:8.0%}"
                print(
                    f"{label:16} {path:11} {seconds:9.4f} {n / seconds:12,.0f} "
                    f"{seconds / medians['raw']:7.1f} {seconds / medians['raw+encode']:10.2f} {ratio}"
                )
        calls = 60
        local_ms = [await first_token(engine, "bench_one", calls) * 1000 for _ in range(3)]
        remote_ms = [await first_token(host, "bench_one", calls) * 1000 for _ in range(3)]
        local_first, remote_first = statistics.median(local_ms), statistics.median(remote_ms)
        print(f"\nfirst token, median of {calls} calls: in-process {local_first:.2f} ms, host {remote_first:.2f} ms "
              f"(+{remote_first - local_first:.2f} ms)")  # fmt: skip
        await host.close()
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cli-only", action="store_true", help="only the cli, cli+stream and cli+rewrite lines")
    options = parser.parse_args()
    asyncio.run((cli_only if options.cli_only else main)(options.chunks, options.repeats))
