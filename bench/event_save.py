"""Saving a reply's events beside a huge one: `python bench/event_save.py [--events 10000 --mb 5]`.

The soak's stuck reply: a call record holding a 5 MB history was stored as one event, and every
event later saved for the reply whose id sorts just before it read those 5 MB again (events were
a WITHOUT ROWID table, which compares keys by whole row), so 10,000 status events took a minute
to save with the write lock held. This stores such an event, then saves N events to the
neighbouring reply in saves of 500, as a streaming reply does, on a temporary store; prints the
time and the bytes read from files (Linux /proc/self/io), and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tuichat.store import Store  # noqa: E402


def bytes_read() -> int:
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("rchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def run(events: int, mb: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with await Store.open(Path(folder) / "bench.db") as store:
            chat = await store.chats.create("Bench")
            replies = [await store.chats.add_message(chat.id, "assistant", "", status="streaming") for _ in range(2)]
            before, after = sorted(replies, key=lambda message: message.id)
            fields = {"reasoning": None, "error": None, "usage": None, "extra": {}}
            huge = {"request": {"body": {"messages": [{"role": "assistant", "content": "flood " * (mb * 2**20 // 6)}]}}}
            await store.chats.save_reply(after.id, content="", status="done", **fields, new_events=[(0.0, huge)])
            read, started = bytes_read(), time.perf_counter()
            for first in range(0, events, 500):
                batch = [
                    (i / 100, {"event": {"type": "status", "data": {"description": f"step {i}"}}})
                    for i in range(first, min(events, first + 500))
                ]
                await store.chats.save_reply(
                    before.id, content="", status="streaming", **fields, new_events=batch, first_seq=first
                )
            elapsed = time.perf_counter() - started
            print(
                f"{events:,} events saved beside a {mb} MB event: {elapsed:.2f} s, {(bytes_read() - read) / 2**20:,.0f} MB read"
            )
    print(f"load average: {os.getloadavg()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--mb", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.mb))


if __name__ == "__main__":
    main()
