"""How long a `tuichat` command takes from launch to exit, with the pipe host started early
(as shipped) and started when first needed (the baseline), alternating in one run.

    python bench/cli_latency.py [--runs 15]

Prints the median and quartiles of each command's wall time in both modes, their ratio, and
the load average (the machine is shared: compare figures from one run only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LATE = (
    "import sys, tuichat.runtime.hostproc.spawn as s; s.can_adopt = lambda: False; "
    "from tuichat.launch import main; sys.exit(main(sys.argv[1:]))"
)
EARLY = "import sys; from tuichat.launch import main; sys.exit(main(sys.argv[1:]))"
COMMANDS = {
    "run echo hi": ["run", "echo", "hi", "--no-save"],
    "models": ["models"],
    "pipes show echo": ["pipes", "show", "echo"],
}


def timed(code: str, db: Path, args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "--db", str(db), *args], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        timed(EARLY, db, ["models"])  # seeds the examples, warms the file cache
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print(f"{'command':18} {'late (median, IQR)':>24} {'early (median, IQR)':>24} {'early/late':>10}")
        for name, args in COMMANDS.items():
            late: list[float] = []
            early: list[float] = []
            for _ in range(runs):
                late.append(timed(LATE, db, args))
                early.append(timed(EARLY, db, args))
            def show(xs: list[float]) -> str:
                q = statistics.quantiles(xs, n=4)
                return f"{statistics.median(xs):.3f} s ({q[0]:.3f}-{q[2]:.3f})"
            print(f"{name:18} {show(late):>24} {show(early):>24} {statistics.median(early) / statistics.median(late):>10.2f}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
