"""A reply that is one long code fence, streamed as fast as it comes: `python bench/tui_big_fence.py`.

The path `bench/tui_stream.py` times (`ReplyView.apply` per step, then `finish`, in the app's
`Conversation`, headless 100x40), with a reply of one fence of `--lines` lines in 16-character
tokens: the time from the first token until the view has fully rendered, the event loop's
worst stall (the finish included) and the CPU, medians of `--runs` fresh processes. A growing
fence is highlighted anew at every write, so the time grows faster than the fence.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_stream import run_once  # noqa: E402

from tuichat.runtime.invocation.codec import chunk_line  # noqa: E402
from tuichat.runtime.invocation.trace import SseStep  # noqa: E402

TOKEN_CHARS = 16


def fence_reply(lines: int) -> str:
    code = "\n".join(f"    value_{i} = compute({i}) + other_{i % 7}  # line {i}" for i in range(lines))
    return f"Here it is:\n\n```python\n{code}\n```\n\nDone."


def child(lines: int) -> None:
    text = fence_reply(lines)
    steps = [SseStep(chunk_line("bench", text[i : i + TOKEN_CHARS])) for i in range(0, len(text), TOKEN_CHARS)]
    figures = asyncio.run(run_once("tuichat", steps, None))
    print(json.dumps({"total": figures.total, "stall": figures.stall_max_all, "cpu": figures.cpu}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[200, 400])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    print(f"load average (1 min) before: {os.getloadavg()[0]:.2f}")
    for lines in args.lines:
        runs = []
        for _ in range(args.runs):
            command = [sys.executable, __file__, "--child", str(lines)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(output.splitlines()[-1]))
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"{lines:6,} lines ({len(fence_reply(lines)):,} chars): rendered in {median['total']:.2f} s, "
              f"worst stall {median['stall'] * 1000:.0f} ms, CPU {median['cpu']:.0f}% (medians of {args.runs})")
    print(f"load average (1 min) after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
