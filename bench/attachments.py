"""Attachments: reading and checking files (a 1 MB and a 20 MB text file, a 100 MB file refused
from its size), and whole turns through the pipe host with a text file attached (stored, the
query task call, the RAG template; the pipe answers with the prompt's length), beside the same
turn with none. Medians of N runs, and the load average.

    python bench/attachments.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from tuichat.runtime.attachments import AttachmentError, read_attachment
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.turn import Turn
from tuichat.store import Store

SIZER = '''
class Pipe:
    def pipe(self, body, __task__=None):
        if __task__:
            return '{"queries": []}'
        content = body["messages"][-1]["content"]
        return str(len(content if isinstance(content, str) else "".join(p.get("text", "") for p in content)))
'''


def timed(call, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def refuse(path: Path) -> None:
    try:
        read_attachment(path)
    except AttachmentError:
        return
    raise AssertionError("not refused")


async def turns(folder: Path, runs: int, text_file: Path) -> None:
    async with await Store.open(folder / "bench.db") as store, PipeHost(store) as host:
        await FunctionLibrary(host).add(SIZER, function_id="sizer")
        for label, attachments in (("no attachment", []), (f"{text_file.stat().st_size // 1024} KB text file", [text_file])):
            times = []
            for _ in range(runs):
                began = time.perf_counter()
                turn = Turn(host, "sizer", "What is in it?", stream=False, attachments=[read_attachment(p) for p in attachments])
                async for _ in turn.run():
                    pass
                times.append(time.perf_counter() - began)
            print(f"turn, {label}: median {statistics.median(times) * 1000:.0f} ms (prompt {turn.reply.content} chars)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        line = "The quick brown fox jumps over the lazy dog. 0123456789\n"
        small, large, huge = folder / "one.txt", folder / "twenty.txt", folder / "huge.log"
        small.write_text(line * (1024 * 1024 // len(line)))
        large.write_text(line * (20 * 1024 * 1024 // len(line)))
        with huge.open("wb") as handle:
            handle.truncate(100 * 1024 * 1024)
        print(f"read 1 MB text file: median {timed(lambda: read_attachment(small), args.runs) * 1000:.1f} ms")
        print(f"read 20 MB text file: median {timed(lambda: read_attachment(large), args.runs) * 1000:.1f} ms")
        print(f"refuse 100 MB file: median {timed(lambda: refuse(huge), args.runs) * 1000:.3f} ms")
        asyncio.run(turns(folder, args.runs, small))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
