"""What the chat path's TUI asks the pipe host for: each filter's priority and toggle (the
pipes screen, the model settings screen) and a model's toggles (F10 in a chat). Prints the
median and worst of 20 reads, with N filters stored, and the load average.

    python bench/chat_toggles.py [N]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tuichat.runtime.filter_facts import model_toggles, read_facts
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store

PAIR = Path(__file__).parent.parent / "tests" / "pipes" / "chatpath"


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "bench.db") as store, PipeHost(store) as host:
            library = FunctionLibrary(host)
            await library.add((PAIR / "search_pipe.py").read_text(), function_id="search")
            source = (PAIR / "web_search_toggle.py").read_text()
            for i in range(count):
                await library.add(source, function_id=f"toggle_{i}")
                await store.functions.update(f"toggle_{i}", is_global=True)
            rows = await store.functions.list(type="filter")
            for what, read in (("read_facts", lambda: read_facts(host, rows)), ("model_toggles", lambda: model_toggles(host, "search"))):
                await read()  # the first loads each filter in the host
                times = []
                for _ in range(20):
                    began = time.perf_counter()
                    await read()
                    times.append((time.perf_counter() - began) * 1000)
                print(f"{what:14} {count} filters: median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
