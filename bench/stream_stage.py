"""The chat path's stream stage alone, per chunk: `python bench/stream_stage.py`.

Each chunk of a one-word stream is parsed, passed through the stream filters
(`tuichat.runtime.chatpath.stream.StreamStage`: the hook, its time, its tally of chunks
rewritten and dropped) and encoded again, in this process, with no filter, with a filter
that passes each chunk on, and with one that rewrites each (upper-cases its content).
Prints the CPU time per chunk (the least of several runs: CPU time, not wall time, so a
busy machine disturbs it less) and the chunks per second that makes. What a turn adds
around this (the host process, the app, saving) is `bench/stream_throughput.py`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tuichat.runtime.chatpath.filters import Filter  # noqa: E402
from tuichat.runtime.chatpath.stream import StreamStage, delta_text, parse_chunk  # noqa: E402
from tuichat.runtime.invocation import codec  # noqa: E402
from tuichat.store.functions import FunctionRow  # noqa: E402


class PassOn:
    def stream(self, event: dict[str, Any]) -> dict[str, Any]:
        return event


class Upper:
    def stream(self, event: dict[str, Any]) -> dict[str, Any]:
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                delta["content"] = delta["content"].upper()
        return event


def a_filter(fid: str, instance: Any) -> Filter:
    row = FunctionRow(id=fid, user_id="u", name=fid, type="filter", content="", meta={}, valves={},
                      is_active=True, is_global=True, created_at=0, updated_at=0, load_error=None)  # fmt: skip
    return Filter(row, instance, {})


async def per_chunk(instance: Any, n: int) -> float:
    """CPU seconds per chunk: parsed, through the stage (when a filter is given), its text kept."""
    sse = codec.process_line("m", "word ")
    filters = [a_filter("f", instance)] if instance is not None else []
    stage = StreamStage(filters, {f.id: {} for f in filters}, lambda record: None)
    started = time.process_time()
    for _ in range(n):
        chunk = parse_chunk(sse)
        assert chunk is not None
        if filters:
            filtered = await stage.line(chunk, sse)
            assert filtered is not None
            chunk = filtered[0]
        delta_text(chunk)
    return (time.process_time() - started) / n


async def main(n: int, repeats: int) -> None:
    cases = {"no filter": None, "pass-through": PassOn(), "rewriting": Upper()}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, instance in cases.items():
            times[name].append(await per_chunk(instance, n))
    print(f"{n:,} chunks per run, least CPU time of {repeats} runs")
    for name, values in times.items():
        best = min(values)
        print(f"{name:13} {best * 1e6:6.2f} us/chunk {1 / best:12,.0f} chunks/s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.chunks, options.repeats))
