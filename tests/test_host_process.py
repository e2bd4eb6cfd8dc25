"""The pipe host process against bad pipes: every case runs a real child process.

Each case: a clear message, the app's loop never blocked, what arrived kept, and the
next call works.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tuichat.runtime.host import HostDied, PipeHost
from tuichat.runtime.hostproc import client as client_module
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.model import Reply
from tuichat.runtime.turn import Turn
from tuichat.store import Store

GUARD = 20.0  # seconds before a stuck case fails instead of hanging
GOOD = "class Pipe:\n    def pipe(self, body):\n        return 'still here'\n"


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


async def add(library: FunctionLibrary, source: str, fid: str = "p") -> None:
    await library.add(src(source), function_id=fid)


async def reply_of(host: PipeHost, model: str = "p", *, on_update: Any = None) -> Reply:
    turn = Turn(host, model, "hi")

    async def run() -> None:
        async for update in turn.run():
            if on_update is not None:
                await on_update(turn, update)

    await asyncio.wait_for(run(), GUARD)
    return turn.reply


async def next_call_works(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(GOOD, function_id="good", replace=True)
    reply = await reply_of(host, "good")
    assert (reply.content, reply.error) == ("still here", None)


class LoopWatch:
    """The longest the app's event loop went without a turn while the block ran."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LoopWatch:
        async def tick() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                self.worst = max(self.worst, now - last - 0.01)
                last = now

        self._task = asyncio.ensure_future(tick())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


# -- the host dies -------------------------------------------------------------------------------
DYING = {
    "os-exit": ("import os\n", "os._exit(3)", "the pipe process died: it exited with status 3"),
    "segfault": ("import ctypes\n", "ctypes.string_at(0)", "the pipe process died: segmentation fault (SIGSEGV)"),
    "sigkill": ("import os, signal\n", "os.kill(os.getpid(), signal.SIGKILL)", "the pipe process died: killed (SIGKILL)"),
}


@pytest.mark.parametrize("case", list(DYING))
async def test_a_dying_host_keeps_the_text_says_how_and_the_next_call_works(
    case: str, host: PipeHost, library: FunctionLibrary
) -> None:
    imports, die, message = DYING[case]
    source = imports + (
        "import sys, time\n"
        "class Pipe:\n"
        "    def pipe(self, body):\n"
        "        yield 'before '\n"
        "        print('last words', file=sys.stderr, flush=True)\n"
        "        time.sleep(0.2)\n"
        f"        {die}\n"
        "        yield 'never'\n"
    )
    await library.add(source, function_id="p")
    async with LoopWatch() as watch:
        reply = await reply_of(host)
    assert reply.content == "before"
    assert reply.error is not None and reply.error.startswith(message)
    logs = [entry.data["text"] for entry in reply.activity if entry.kind == "log"]
    assert "last words" in logs
    assert watch.worst < 1.0
    await next_call_works(host, library)


async def test_the_reply_is_stored_with_the_death(host: PipeHost, library: FunctionLibrary, store: Store) -> None:
    await add(
        library,
        """
        import os, time
        class Pipe:
            def pipe(self, body):
                yield "kept"
                time.sleep(0.1)
                os._exit(9)
        """,
    )
    turn = Turn(host, "p", "hi")
    await asyncio.wait_for(_drain(turn), GUARD)
    assert turn.context.reply_message is not None
    saved = await store.chats.get_message(turn.context.reply_message.id)
    assert saved is not None and (saved.content, saved.status) == ("kept", "error")
    assert saved.error == "the pipe process died: it exited with status 9"


async def _drain(turn: Turn) -> None:
    async for _ in turn.run():
        pass


async def test_sigkill_from_outside_mid_stream(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import asyncio
        class Pipe:
            async def pipe(self, body):
                yield "one "
                await asyncio.sleep(3600)
        """,
    )

    killed: list[int] = []

    async def kill_host(turn: Turn, update: Any) -> None:
        if not killed:
            process = await host.process()
            killed.append(process.process.pid)
            process.process.send_signal(signal.SIGKILL)

    reply = await reply_of(host, on_update=kill_host)
    assert reply.content == "one"
    assert reply.error is not None and "killed (SIGKILL)" in reply.error
    await next_call_works(host, library)


async def test_memory_error_stays_in_the_pipe(
    store: Store, library: FunctionLibrary, host: PipeHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUICHAT_HOST_MEMORY", "1G")
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                hog = bytearray(3 << 30)
                return str(len(hog))
        """,
    )
    await host.close()  # the next start takes the limit
    reply = await reply_of(host)
    assert reply.error is not None and "MemoryError" in (reply.traceback or reply.error or "")
    await next_call_works(host, library)


# -- the host hangs ------------------------------------------------------------------------------
async def test_an_endless_sync_pipe_is_stopped_by_killing_the_host(
    host: PipeHost, library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "STOP_GRACE", 0.3)
    await add(
        library,
        """
        class Pipe:
            def pipe(self, body):
                yield "spinning"
                while True:
                    pass
        """,
    )
    turn = Turn(host, "p", "hi")
    async with LoopWatch() as watch:
        steps = turn.run()
        while not (await asyncio.wait_for(anext(steps), GUARD)).text:
            pass
        turn.cancel()
        await asyncio.wait_for(_drain_iter(steps), GUARD)
    assert (turn.reply.content, turn.reply.status) == ("spinning", "stopped")
    assert watch.worst < 1.0
    process = await host.process()  # the old one was killed: a new one serves
    await next_call_works(host, library)
    assert process.alive


async def test_a_pipe_stopped_while_its_host_starts_is_stopped_all_the_same(
    host: PipeHost, library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Esc while the host was (re)starting: the call went out anyway, unstoppable, and a pipe
    that blocked then held the host, and every later message, for good."""
    monkeypatch.setattr(client_module, "STOP_GRACE", 0.3)
    await add(
        library,
        """
        import time
        class Pipe:
            async def pipe(self, body):
                yield "hanging "
                time.sleep(3600)
        """,
    )
    made = client_module.RemoteInvocation.__init__

    def stopped_while_starting(self: Any, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        start = self._start_host

        async def starting() -> Any:
            started = await start()
            self.cancel()  # the Esc, before the call is sent
            return started

        self._start_host = starting

    monkeypatch.setattr(client_module.RemoteInvocation, "__init__", stopped_while_starting)
    turn = Turn(host, "p", "hi")
    await asyncio.wait_for(_drain_iter(turn.run()), GUARD)
    assert turn.reply.status == "stopped"
    monkeypatch.setattr(client_module.RemoteInvocation, "__init__", made)
    await next_call_works(host, library)


async def _drain_iter(steps: Any) -> None:
    async for _ in steps:
        pass


async def test_time_sleep_in_an_async_pipe_blocks_only_the_host(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import time
        class Pipe:
            async def pipe(self, body):
                time.sleep(1.0)
                return "slept"
        """,
    )
    async with LoopWatch() as watch:
        reply = await reply_of(host)
    assert reply.content == "slept"
    assert watch.worst < 0.5


async def test_an_endless_pipes_listing_times_out_alone(host: PipeHost, library: FunctionLibrary, store: Store) -> None:
    await library.add(GOOD, function_id="good")
    await store.functions.insert(
        "spin", name="spin", type="pipe", is_active=True,
        content="class Pipe:\n    def pipes(self):\n        while True:\n            pass\n    def pipe(self, body):\n        return 'x'\n",
    )  # fmt: skip
    listing = await asyncio.wait_for(host.list_models(timeout=0.5), GUARD)
    assert [m["id"] for m in listing.models] == ["good"]
    assert "longer than 0.5 s" in listing.errors["spin"]


async def test_a_listing_that_kills_the_host_costs_only_its_own_models(
    host: PipeHost, library: FunctionLibrary, store: Store, tmp_path: Path
) -> None:
    await library.add(GOOD, function_id="good")
    marker = tmp_path / "died-once"
    # `once` kills the host the first time only (as a stray signal would), `killer` always.
    for fid, condition in (("once", f"not os.path.exists({str(marker)!r})"), ("killer", "True")):
        await store.functions.insert(
            fid, name=fid, type="pipe", is_active=True,
            content=(
                "import os\n"
                "class Pipe:\n"
                "    def pipes(self):\n"
                f"        if {condition}:\n"
                f"            open({str(marker)!r}, 'w').close()\n"
                "            os._exit(3)\n"
                "        return [{'id': 'a', 'name': 'A'}]\n"
                "    def pipe(self, body):\n"
                "        return 'x'\n"
            ),
        )  # fmt: skip
    listing = await asyncio.wait_for(host.list_models(), GUARD)
    assert [m["id"] for m in listing.models] == ["good", "once.a"]
    assert listing.errors == {"killer": "listing models failed: the pipe process died: it exited with status 3"}
    await next_call_works(host, library)


async def test_an_endless_import_restarts_the_host_and_says_where_it_was(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(GOOD, function_id="good")  # the host is up, so the timeout is the import's alone
    host.load_timeout = 0.5
    with pytest.raises(HostDied, match="'load' took longer than 0.5 s") as died:
        await library.add("x = 1\nwhile True:\n    x += 1\nclass Pipe:\n    pass\n", function_id="spin")
    assert re.search(r"\(it was at spin.py:[23] in <module>\)$", str(died.value))
    host.load_timeout = 30.0
    await next_call_works(host, library)


# -- the host misbehaves but lives ---------------------------------------------------------------
ALIVE = {
    "non-daemon-thread": "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()",
    "100k-prints": "for i in range(100_000):\n            print('line', i)",
    "closes-fd-1": "import os\nos.close(1)",
    "binary-stdout": "import os\nos.write(1, bytes(range(256)) * 64)",
    "forks": "import os\npid = os.fork()\nif pid == 0:\n            os._exit(0)\nos.waitpid(pid, 0)",
}


@pytest.mark.parametrize("case", list(ALIVE))
async def test_a_misbehaving_pipe_leaves_the_host_working(case: str, host: PipeHost, library: FunctionLibrary) -> None:
    body = textwrap.indent(ALIVE[case].replace("\n        ", "\n"), "        ").lstrip()
    source = f"class Pipe:\n    def pipe(self, body):\n        yield 'arrived '\n        {body}\n        yield 'done'\n"
    await library.add(source, function_id="p")
    async with LoopWatch() as watch:
        reply = await reply_of(host)
    assert (reply.content, reply.error) == ("arrived done", None)
    assert watch.worst < 1.0
    await next_call_works(host, library)
    started = time.monotonic()
    await host.close()  # never waits for the pipe's threads
    assert time.monotonic() - started < 2.0


async def test_the_host_dying_during_an_event_call(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        class Pipe:
            async def pipe(self, body, __event_call__=None):
                yield "asking "
                answer = await __event_call__({"type": "input", "data": {"title": "Name?"}})
                yield str(answer)
        """,
    )

    async def dialog(event: dict[str, Any]) -> Any:
        process = await host.process()
        process.process.send_signal(signal.SIGKILL)  # the host dies while the "dialog" is open
        await asyncio.sleep(0.5)
        return "Al"

    turn = Turn(host, "p", "hi", event_call=dialog)
    await asyncio.wait_for(_drain(turn), GUARD)
    assert turn.reply.content == "asking"
    assert turn.reply.error is not None and "killed (SIGKILL)" in turn.reply.error
    await next_call_works(host, library)


# -- the app dies --------------------------------------------------------------------------------
_APP = """
import asyncio, sys
from pathlib import Path
from tuichat.runtime.host import PipeHost
from tuichat.store import Store

async def main():
    store = await Store.open(Path(sys.argv[1]))
    host = PipeHost(store)
    process = await host.process()
    await process.connection.request("ping")
    print(process.process.pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_killed_app_leaves_no_host_behind(tmp_path: Path) -> None:
    app = subprocess.Popen([sys.executable, "-c", _APP, str(tmp_path / "t.db")], stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None
        host_pid = int(app.stdout.readline())
        os.kill(app.pid, signal.SIGKILL)
        app.wait(GUARD)
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline and _alive(host_pid):
            time.sleep(0.05)
        assert not _alive(host_pid)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


# -- output is untrusted -------------------------------------------------------------------------
def test_control_sequences_are_shown_not_obeyed() -> None:
    from tuichat.runtime.reply.model import ActivityEntry
    from tuichat.runtime.reply.present import describe_entry
    from tuichat.runtime.untrusted import neutralise

    clipboard = "\x1b]52;c;aGk=\x07"
    assert neutralise(f"a{clipboard}b\tc\n\x1b[2J") == "a␛]52;c;aGk=␇b\tc\n␛[2J"
    entry = ActivityEntry(0.0, "log", {"stream": "stdout", "text": f"owned{clipboard}"})
    assert str(describe_entry(entry)) == "[stdout] owned␛]52;c;aGk=␇"


async def test_captured_output_and_the_call_record_reach_the_reply(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import logging, subprocess, sys
        class Pipe:
            class Valves:
                pass
            def pipe(self, body, __user__=None):
                print("from print")
                sys.stdout.buffer.write(b"from stdout.buffer\\n")
                sys.stderr.write("from stderr\\n")
                logging.getLogger("mypipe").warning("careful")
                subprocess.run([sys.executable, "-c", "print('from a subprocess')"])
                return "ok"
        """,
    )
    reply = await reply_of(host)
    assert reply.content == "ok"
    request = next(entry.data for entry in reply.activity if entry.kind == "request")
    assert (request["declared"], request["given"], request["body"]["messages"]) == (
        ["__user__"], ["__user__"], [{"role": "user", "content": "hi"}],
    )
    logs = [(e.data["stream"], e.data.get("level"), e.data.get("logger"), e.data["text"]) for e in reply.activity if e.kind == "log"]
    assert ("stdout", None, None, "from print") in logs
    assert ("stdout", None, None, "from stdout.buffer") in logs
    assert ("stderr", None, None, "from stderr") in logs
    assert ("log", "WARNING", "mypipe", "careful") in logs
    assert ("stdout", None, None, "from a subprocess") in logs


async def test_a_flood_of_prints_is_capped(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add("class Pipe:\n    def pipe(self, body):\n        for i in range(100_000):\n            print(i)\n        return 'done'\n", function_id="p")
    reply = await reply_of(host)
    logs = [e.data["text"] for e in reply.activity if e.kind == "log"]
    assert reply.content == "done"
    assert len(logs) == 2001 and logs[-1] == "98000 more lines of output were not kept"


async def test_a_pipe_that_closes_fd_1_is_told_and_later_output_is_still_captured(
    host: PipeHost, library: FunctionLibrary
) -> None:
    await add(library, "import os\nclass Pipe:\n    def pipe(self, body):\n        os.close(1)\n        return 'closed'\n")
    reply = await reply_of(host)
    notes = [e.data["text"] for e in reply.activity if e.kind == "log" and e.data["stream"] == "tuichat"]
    assert reply.content == "closed"
    assert notes == ["the pipe closed or replaced fd 1 (stdout); tuichat put it back"]
    await add(
        library,
        """
        import os, subprocess, sys
        class Pipe:
            def pipe(self, body):
                os.write(1, b"raw " + bytes([0xff, 0x1b]) + b"bytes\\n")
                subprocess.run([sys.executable, "-c", "print('from a subprocess')"])
                return "ok"
        """,
        fid="q",
    )
    later = await reply_of(host, "q")
    logs = [e.data["text"] for e in later.activity if e.kind == "log"]
    assert (later.content, later.error) == ("ok", None)
    # Binary garbage is kept as text (invalid UTF-8 replaced); the screen neutralises controls.
    assert "raw \ufffd\x1bbytes" in logs and "from a subprocess" in logs


async def test_a_flood_waits_in_the_pipe_not_in_the_app(
    host: PipeHost, library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_QUEUED", 64 * 1024)
    await add(library, "class Pipe:\n    def pipe(self, body):\n        for _ in range(15_000):\n            yield 'x' * 99 + '\\n'\n")
    queued: list[int] = []

    async def slow(turn: Turn, update: object) -> None:
        queued.append(turn.invocation._queued)  # type: ignore[union-attr]
        if len(queued) % 50 == 0:
            await asyncio.sleep(0.002)

    reply = await reply_of(host, on_update=slow)
    assert len(reply.content) == 1_500_000 - 1  # all of it (the last newline is stripped)
    # ~4.5 MB of frames (an SSE line is ~300 bytes) went through; never more than the bound and
    # one frame (<= 4,096 steps) waited in the app.
    assert max(queued) < 64 * 1024 + 4096 * 400


async def test_a_flood_stopped_midway_leaves_the_connection_reading(
    host: PipeHost, library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "MAX_QUEUED", 16 * 1024)
    stopped: list[bool] = []
    await add(library, "class Pipe:\n    async def pipe(self, body):\n        while True:\n            yield 'y' * 1024\n")

    async def stop_soon(turn: Turn, update: object) -> None:
        if not stopped and len(turn.builder.snapshot().content) > 256 * 1024:
            stopped.append(True)
            turn.cancel()  # once: a second Esc would kill the host

    reply = await reply_of(host, on_update=stop_soon)
    assert reply.status == "stopped" and len(reply.content) > 256 * 1024
    await next_call_works(host, library)


# -- output no call claims: the host log ---------------------------------------------------------
async def test_output_no_call_claims_goes_to_the_host_log(host: PipeHost, library: FunctionLibrary) -> None:
    await add(
        library,
        """
        import sys, threading, time
        print("printed at import")
        class Pipe:
            def pipe(self, body):
                sys.stderr.write("the call's own stderr\\n")
                threading.Thread(target=lambda: (time.sleep(0.2), print("a thread, after its call"))).start()
                return "ok"
        """,
    )
    assert any(line.text == "printed at import" for line in host.log.lines)  # the load ran outside a call
    reply = await reply_of(host)
    assert ("stderr", "the call's own stderr") in [(e.data["stream"], e.data["text"]) for e in reply.activity if e.kind == "log"]
    deadline = time.monotonic() + GUARD
    while not any(line.text == "a thread, after its call" for line in host.log.lines):
        assert time.monotonic() < deadline, [line.text for line in host.log.lines]
        await asyncio.sleep(0.02)
    assert not any("the call's own" in line.text for line in host.log.lines)  # the reply has it
    process = await host.process()
    assert "the call's own stderr" in process.tail  # kept for a death report all the same


async def test_a_forked_childs_output_reaches_the_reply_or_the_host_log(host: PipeHost, library: FunctionLibrary) -> None:
    """A child forked by a pipe has no way to the app but fd 1 and 2 (its copy of the call's
    log would send nowhere), so what it prints, writes and logs goes there: the call's while it
    runs, else the host log. It ends with os._exit, as forked children do: nothing is flushed."""
    await add(
        library,
        """
        import logging, os, sys, time
        class Pipe:
            def pipe(self, body):
                pid = os.fork()
                if pid == 0:
                    print("child printed")
                    sys.stderr.write("child wrote to stderr\\n")
                    logging.getLogger("kid").warning("child logged")
                    os._exit(0)
                os.waitpid(pid, 0)
                time.sleep(0.3)  # the host's reader takes the child's lines to the call meanwhile
                if os.fork() == 0:
                    time.sleep(0.5)
                    print("child printed after its call")
                    os._exit(0)
                return "forked"
        """,
    )
    reply = await reply_of(host)
    assert reply.content == "forked"
    logs = [(e.data["stream"], e.data["text"]) for e in reply.activity if e.kind == "log"]
    assert ("stdout", "child printed") in logs
    assert ("stderr", "child wrote to stderr") in logs
    assert ("stderr", "child logged") in logs
    deadline = time.monotonic() + GUARD
    while not any(line.text == "child printed after its call" for line in host.log.lines):
        assert time.monotonic() < deadline, [line.text for line in host.log.lines]
        await asyncio.sleep(0.02)
    await next_call_works(host, library)


async def test_the_call_record_cuts_long_texts_the_pipe_gets_whole(host: PipeHost, library: FunctionLibrary) -> None:
    """The call record copies the body, history and all: after a 5 MB reply every later call
    in the chat recorded those 5 MB again, kept in memory and stored with the reply."""
    await add(library, "class Pipe:\n    def pipe(self, body):\n        return str(len(body['messages'][-1]['content']))\n")
    turn = Turn(host, "p", "x" * 100_000)
    await asyncio.wait_for(_drain(turn), GUARD)
    assert turn.reply.content == "100000"
    request = next(entry.data for entry in turn.reply.activity if entry.kind == "request")
    recorded = request["body"]["messages"][-1]["content"]
    assert recorded == "x" * 4_000 + "… [96,000 more characters not kept in the call record]"
