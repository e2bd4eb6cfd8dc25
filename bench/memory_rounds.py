"""The app's memory over rounds of floods, with and without the heap trim: `python bench/memory_rounds.py`.

The soak's rotation of misbehaving pipes (bench/soak.py: dying, segfaulting, hanging then
stopped, a 5 MB flood, 10,000 prints and logs, forking, 20,000 events, a thread, a good one),
sent one after another to the app (`TuichatApp`, headless `run_test` at 100x30), then a new chat
(ctrl+n): that is a round. After each round the app's RSS is read (the pipe host is another
process). Each mode runs in a process of its own, in turn: `trim` (the app as shipped: glibc's
`malloc_trim` after a large reply and when a chat is replaced, `tuichat/heap.py`) and `off`
(the trim disabled). Printed per round and mode: RSS, Python objects tracked by the collector,
in `trim` mode how many trims the app made and their cost (ms, median and max), and the app's
own full collections (a reply's end, a chat replaced: the app stops for them); then per
mode the median RSS of the rounds after the first, the growth from round 2 to the last, and the
load average.

`--detail` also prints, after each round, the object types whose count grew most since the
round before, and with `--trace` the source lines whose allocations grew most (tracemalloc:
slow, several times the round's time).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_db(folder: Path, flood_mb: int) -> Path:
    import soak

    db = folder / "rounds.db"
    tuichat = Path(sys.executable).parent / "tuichat"
    for name, body in soak.PIPES.items():
        path = folder / f"{name}.py"
        path.write_text(f'"""\ntitle: {name}\n"""\nMB = {flood_mb}\n' + textwrap.dedent(body), encoding="utf-8")
        subprocess.run([str(tuichat), "--db", str(db), "--offline", "pipes", "add", str(path)], check=True, capture_output=True)
    return db


async def child(db: Path, mode: str, rounds: int, detail: bool, trace: bool, who: str | None) -> None:
    """One mode's rounds in this process; a JSON line per round on stdout."""
    import soak

    from tests.ui.helpers import pick, ready, send, until
    from tuichat import heap
    from tuichat.ui.app import TuichatApp
    from tuichat.ui.widgets.conversation import Conversation
    from tuichat.ui.widgets.gc_hold import GcHold
    from tuichat.ui.widgets.welcome import Welcome

    costs: list[float] = []
    if mode == "off":
        heap._trim, heap._loaded = None, True
    else:
        real = heap.trim

        def timed() -> float | None:
            took = real()
            if took is not None:
                costs.append(took)
            return took

        heap.trim = timed  # type: ignore[assignment]
    pauses: list[float] = []  # the app's collections: a reply's end (GcHold.release), a chat's switch
    for owner, name in ((GcHold, "release"), (Conversation, "_collect_and_freeze")):
        setattr(owner, name, _timed(getattr(owner, name), pauses))
    if trace:
        import tracemalloc

        tracemalloc.start(8)
    previous: Counter[str] = Counter()
    snapshot = None
    app = TuichatApp(db)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await ready(pilot)
        for number in range(1, rounds + 1):
            started = time.perf_counter()
            costs.clear()
            pauses.clear()
            for model in soak.PIPES:
                await pick(pilot, model)
                await send(pilot, screen, "go")
                if model in soak.HANGS:
                    await pilot.pause(1.0)
                    await pilot.press("escape")
                await until(pilot, lambda: not screen.streaming, timeout=180)
            await pilot.press("ctrl+n")
            await until(pilot, lambda: bool(screen.query(Welcome)), timeout=120)  # the chat replaced
            await pilot.pause(1.0)  # laid out, collected, trimmed
            line = {
                "mode": mode, "round": number, "seconds": time.perf_counter() - started, "rss": rss_mb(),
                "objects": len(gc.get_objects()) + gc.get_freeze_count(), "frozen": gc.get_freeze_count(),
                "trims": len(costs), "trim_ms": [round(c * 1000, 2) for c in costs],
                "gc_ms": [round(p * 1000, 1) for p in pauses],
            }
            if detail:  # the app freezes what a chat holds (gc.freeze): count those too
                gc.unfreeze()
                counts = Counter(type(o).__name__ for o in gc.get_objects())
                gc.freeze()
                growth = {name: counts[name] - previous[name] for name in counts | previous}
                line["grew"] = sorted(growth.items(), key=lambda item: -item[1])[:12]
                line["held"] = holders(who, counts) if who else []
                previous = counts
            if trace:
                import tracemalloc

                now = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
                if snapshot is not None:
                    top = now.compare_to(snapshot, "traceback")[:8]
                    line["traced"] = [
                        (f"{s.size_diff / 1024:.0f} KiB {s.count_diff:+d}", [str(f) for f in s.traceback[-4:]]) for s in top
                    ]
                snapshot = now
            print(json.dumps(line), flush=True)


def holders(type_name: str, counts: Counter[str]) -> list[str]:
    """How each object of `type_name` (the first 3) is reached from the app or a module: the
    shortest chain of references, found on a map of who refers to whom."""
    import collections
    import types

    from textual.app import App

    gc.unfreeze()
    try:
        everything = gc.get_objects()
        referrers: dict[int, list[object]] = collections.defaultdict(list)
        for holder in everything:
            if isinstance(holder, types.FrameType):
                continue
            for referent in gc.get_referents(holder):
                referrers[id(referent)].append(holder)
        found = [o for o in everything if type(o).__name__ == type_name][:3]
        chains = []
        for target in found:
            seen = {id(target)}
            queue = collections.deque([(target, [type(target).__name__])])
            chain = None
            while queue and chain is None:
                current, path = queue.popleft()
                for holder in referrers.get(id(current), []):
                    if id(holder) in seen or holder is everything or holder is found:
                        continue
                    seen.add(id(holder))
                    label = type(holder).__name__
                    if isinstance(holder, dict):
                        key = next((k for k, v in holder.items() if v is current), None)
                        label = f"dict[{key!r}]" if key is not None else "dict"
                    if isinstance(holder, (App, types.ModuleType)) or len(path) > 14:
                        chain = path + [label]
                        break
                    queue.append((holder, path + [label]))
            chains.append(" <- ".join(chain or ["unreachable from the app: garbage"]))
        return chains
    finally:
        gc.freeze()


def _timed(method: Any, into: list[float]) -> Any:
    def timed(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args)
        finally:
            into.append(time.perf_counter() - started)

    return timed


def run_mode(db: Path, mode: str, args: argparse.Namespace) -> list[dict]:
    command = [sys.executable, __file__, "--child", mode, "--db", str(db), "--rounds", str(args.rounds)]
    command += ["--detail"] * args.detail + ["--trace"] * args.trace + (["--who", args.who] if args.who else [])
    rows = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "TEXTUAL_ANIMATIONS": "none"}) as proc:
        assert proc.stdout is not None
        for raw in proc.stdout:
            if not raw.startswith("{"):
                continue
            row = json.loads(raw)
            rows.append(row)
            costs = row["trim_ms"]
            cost = f"  trims {row['trims']} ({statistics.median(costs):.1f} ms median, {max(costs):.1f} max)" if costs else ""
            gcs = row["gc_ms"]
            cost += f"  collections {len(gcs)} ({statistics.median(gcs):.0f} ms median, {max(gcs):.0f} max)" if gcs else ""
            print(
                f"{mode:4} round {row['round']}: {row['seconds']:4.0f} s  RSS {row['rss']:6.1f} MB"
                f"  objects {row['objects']:,} (frozen {row['frozen']:,}){cost}",
                flush=True,
            )
            for name, grown in row.get("grew", []):
                print(f"      {grown:+7,} {name}")
            for held in row.get("held", []):
                print(f"      held: {held}")
            for size, frames in row.get("traced", []):
                print(f"      {size}: " + " <- ".join(reversed(frames)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds per mode (default 5)")
    parser.add_argument("--modes", default="trim,off", help="which modes, in order (default trim,off)")
    parser.add_argument("--flood-mb", type=int, default=5, help="the flooding reply's size (default 5)")
    parser.add_argument("--detail", action="store_true", help="object types that grew, per round")
    parser.add_argument("--trace", action="store_true", help="allocations that grew, per round (tracemalloc; slow)")
    parser.add_argument("--who", help="with --detail: how objects of this type are reached from the app (chains of references)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.db, args.child, args.rounds, args.detail, args.trace, args.who))
        return
    print(f"load average before: {os.getloadavg()}", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="memory-rounds-") as folder:
        for mode in args.modes.split(","):
            db = make_db(Path(folder) / mode, args.flood_mb) if (Path(folder) / mode).mkdir() is None else None
            results[mode] = run_mode(db, mode, args)
    for mode, rows in results.items():
        later = [r["rss"] for r in rows[1:]] or [r["rss"] for r in rows]
        grown = rows[-1]["rss"] - rows[1]["rss"] if len(rows) > 2 else 0.0
        costs = [c for r in rows for c in r["trim_ms"]]
        cost = f"; trims {len(costs)}, median {statistics.median(costs):.1f} ms, max {max(costs):.1f} ms" if costs else ""
        gcs = [c for r in rows for c in r["gc_ms"]]
        cost += f"; collections {len(gcs)}, median {statistics.median(gcs):.0f} ms, max {max(gcs):.0f} ms" if gcs else ""
        print(
            f"{mode}: RSS after round 1 {rows[0]['rss']:.0f} MB, median of rounds 2-{len(rows)} {statistics.median(later):.0f} MB,"
            f" round 2 to last {grown:+.0f} MB{cost}"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
