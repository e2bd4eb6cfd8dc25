"""What published pipes do that tuichat once got wrong: events from tasks that outlive
`pipe()`, items orjson refuses, `chat:messages` and `files` events, optional or stdlib
requirements offline, and a pipe's prints on tuichat's stdout."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import tuichat
from tests.local_host import LocalHost
from tests.tracing import ORACLE_METADATA, collect, normalise
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation import invoke as invoke_module
from tuichat.runtime.invocation.trace import EventStep, Step
from tuichat.runtime.library import FunctionLibrary, InstallPolicy
from tuichat.runtime.reply.builder import reply_from_steps


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


async def steps_of(host: PipeHost, model: str = "p", *, stream: bool = True, metadata: dict[str, Any] | None = None) -> list[Step]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    invocation = await host.invoke(model, body, metadata=dict(metadata or ORACLE_METADATA))
    return await collect(invocation)


# -- events after pipe() returned ------------------------------------------------------------

COUNTDOWN = """
    import asyncio

    class Pipe:
        async def pipe(self, body, __event_emitter__):
            async def countdown():
                for n in (3, 2, 1):
                    await asyncio.sleep(0.05)
                    await __event_emitter__({"type": "status", "data": {"description": f"{n}", "done": False}})
                await __event_emitter__({"type": "status", "data": {"description": "lift-off", "done": True}})

            self.task = asyncio.create_task(countdown())
            await __event_emitter__({"type": "status", "data": {"description": "counting", "done": False}})
            return "started"
"""


async def test_events_from_a_task_the_pipe_started_arrive_after_it_returned(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src(COUNTDOWN), function_id="p")
    steps = await steps_of(host)
    trace = [normalise(step.to_json()) for step in steps]
    statuses = [step["event"]["data"]["description"] for step in trace if "event" in step]
    assert statuses == ["counting", "3", "2", "1", "lift-off"]
    assert trace[-1]["event"]["data"]["done"] is True  # after the stop chunk and [DONE]
    assert any(step.get("sse") == "data: [DONE]" for step in trace)
    reply = reply_from_steps(steps)
    assert reply.content == "started" and reply.statuses[-1]["description"] == "lift-off"


async def test_late_events_are_waited_for_only_a_bounded_time(
    local_host: LocalHost, local_library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The window is the host process's: shortened here, on the engine in this process.
    host, library = local_host, local_library
    monkeypatch.setattr(invoke_module, "LATE_EVENTS_WINDOW", 0.3)
    source = """
        import asyncio

        class Pipe:
            async def pipe(self, body, __event_emitter__):
                async def forever():
                    await __event_emitter__({"type": "status", "data": {"description": "early", "done": False}})
                    await asyncio.sleep(5)
                    await __event_emitter__({"type": "status", "data": {"description": "too late", "done": True}})

                self.task = asyncio.create_task(forever())
                return "ok"
    """
    await library.add(src(source), function_id="p")
    body = {"model": "p", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    started = time.monotonic()
    invocation = await host.invoke("p", body, metadata=dict(ORACLE_METADATA))
    invocation._late_events_window = 0.3
    steps = await collect(invocation)
    assert time.monotonic() - started < 3
    descriptions = [s.event["data"]["description"] for s in steps if isinstance(s, EventStep)]
    assert descriptions == ["early"]


async def test_a_pipe_without_tasks_ends_at_once(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src("class Pipe:\n    async def pipe(self, body):\n        return 'x'\n"), function_id="p")
    started = time.monotonic()
    await steps_of(host)
    assert time.monotonic() - started < 1


# -- Open WebUI's exact output ------------------------------------------------------------------

ODD_ITEMS = """
    class Pipe:
        def pipe(self, body):
            yield {1: "int key", "n": 2 ** 70}
            yield {"é": "fine"}
"""


async def test_items_orjson_refuses_fall_back_to_json_dumps(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src(ODD_ITEMS), function_id="p")
    sse = [step.to_json()["sse"] for step in await steps_of(host) if "sse" in step.to_json()]
    assert sse[0] == 'data: {"1": "int key", "n": 1180591620717411303424}\n\n'  # stdlib json, as Open WebUI falls back
    assert sse[1] == 'data: {"é":"fine"}\n\n'
    assert sse[-1] == "data: [DONE]"


async def test_a_dict_result_orjson_refuses_is_still_sent(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src("class Pipe:\n    def pipe(self, body):\n        return {2: 'x'}\n"), function_id="p")
    assert [step.to_json() for step in await steps_of(host)] == [{"sse": 'data: {"2": "x"}\n\n'}]


CHAT_EVENTS = """
    import json

    class Pipe:
        async def pipe(self, body, __event_emitter__):
            mine = [{"type": "image", "url": "/a.png"}]
            await __event_emitter__({"type": "chat:messages", "data": {"messages": []}})
            await __event_emitter__({"type": "files", "data": {"files": mine}})
            second = [{"type": "image", "url": "/b.png"}]
            await __event_emitter__({"type": "files", "data": {"files": second}})
            return json.dumps([len(mine), [f["url"] for f in second]])
"""


async def test_chat_messages_never_reach_the_caller_and_files_lists_grow_in_place(
    host: PipeHost, library: FunctionLibrary
) -> None:
    await library.add(src(CHAT_EVENTS), function_id="p")
    steps = await steps_of(host)
    events = [step.event for step in steps if isinstance(step, EventStep)]
    assert [event["type"] for event in events] == ["files", "files"]
    assert events[1]["data"]["files"] == [{"type": "image", "url": "/b.png"}]  # as emitted
    reply = reply_from_steps(steps)
    # Open WebUI's DB write: the event's list extended with the message's files, in place.
    assert json.loads(reply.content) == [1, ["/b.png", "/a.png"]]
    assert [f["url"] for f in reply.files] == ["/b.png", "/a.png"]


async def test_files_of_a_temporary_chat_are_not_extended(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src(CHAT_EVENTS), function_id="p")
    metadata = {**ORACLE_METADATA, "chat_id": "local:abc"}
    reply = reply_from_steps(await steps_of(host, metadata=metadata))
    assert json.loads(reply.content) == [1, ["/b.png"]]


# -- requirements, offline ------------------------------------------------------------------------

OPTIONAL_SDK = '''
    """
    title: Optional SDK
    requirements: typing, tuichat-no-such-sdk-xyz
    """
    from typing import Any

    try:
        import tuichat_no_such_sdk_xyz
    except ImportError:
        tuichat_no_such_sdk_xyz = None

    class Pipe:
        def pipe(self, body: dict) -> Any:
            return "without the sdk" if tuichat_no_such_sdk_xyz is None else "with it"
'''


async def test_offline_a_pipe_that_imports_without_its_requirements_loads_and_is_on(
    host: PipeHost, library: FunctionLibrary
) -> None:
    added = await library.add(src(OPTIONAL_SDK), function_id="p", policy=InstallPolicy(offline=True))
    assert added.row.is_active and added.problem is None and added.row.load_error is None
    assert added.warning is not None and "tuichat-no-such-sdk-xyz" in added.warning and "typing" not in added.warning
    assert reply_from_steps(await steps_of(host)).content == "without the sdk"


async def test_offline_a_pipe_that_needs_its_requirements_is_stored_off_saying_why(
    host: PipeHost, library: FunctionLibrary
) -> None:
    source = '"""\nrequirements: tuichat-no-such-sdk-xyz\n"""\nimport tuichat_no_such_sdk_xyz\n\nclass Pipe:\n    def pipe(self, body):\n        return "x"\n'
    added = await library.add(source, function_id="p", policy=InstallPolicy(offline=True))
    assert not added.row.is_active and added.problem is not None
    assert "installs are off" in added.problem and "No module named 'tuichat_no_such_sdk_xyz'" in added.problem


# -- a pipe's prints and tuichat's own stdout -----------------------------------------------------

NOISY = '''
    import logging, sys, threading
    print("printed at import")
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, force=True)

    class Pipe:
        def __init__(self):
            print("printed in __init__")

        def pipes(self):
            print("printed in pipes()")
            return [{"id": "a", "name": "A"}]

        def pipe(self, body):
            print("printed in pipe()")
            logging.getLogger("noisy").info("logged in pipe()")
            t = threading.Thread(target=lambda: print("printed in a thread"))
            t.start(); t.join()
            return "the reply"
'''


def test_a_pipes_prints_and_logs_go_to_stderr_never_into_tuichats_stdout(tmp_path: Path) -> None:
    # Pipe code runs in the host process: what a call prints comes back as its log steps,
    # which `tuichat run` shows on stderr; what is printed outside a call (the import and
    # `pipes()` for `pipes add` and `models`) stays in the host's own log. Never stdout.
    db, pipe = tmp_path / "t.db", tmp_path / "noisy.py"
    pipe.write_text(src(NOISY), encoding="utf-8")
    added = tuichat(db, "pipes", "add", str(pipe))
    assert added.returncode == 0, added.stderr
    assert added.stdout == "added pipe 'noisy' (noisy)\nmodels: noisy.a\n"

    run = tuichat(db, "run", "noisy.a", "hi", "--no-save")
    assert run.returncode == 0 and run.stdout == "the reply\n", run.stderr
    for text in ("printed in pipe()", "logged in pipe()", "printed in a thread"):
        assert text in run.stderr

    jsonl = tuichat(db, "run", "noisy.a", "hi", "--jsonl", "--no-save")
    assert [list(json.loads(line)) for line in jsonl.stdout.splitlines()][-1] == ["reply"]
    models = tuichat(db, "models", "--json")
    assert "noisy.a" in [m["id"] for m in json.loads(models.stdout)]
    listed = tuichat(db, "pipes", "list", "--json")
    assert "noisy" in [f["id"] for f in json.loads(listed.stdout)]


def test_pipes_add_loads_only_the_pipe_it_adds(tmp_path: Path) -> None:
    db, marker = tmp_path / "t.db", tmp_path / "loaded"
    other = tmp_path / "other.py"
    other.write_text(f"open({str(marker)!r}, 'a').write('x')\n\nclass Pipe:\n    def pipe(self, body):\n        return 'o'\n")
    assert tuichat(db, "pipes", "add", str(other)).returncode == 0
    marker.unlink()
    mine = tmp_path / "mine.py"
    mine.write_text("class Pipe:\n    def pipe(self, body):\n        return 'm'\n")
    added = tuichat(db, "pipes", "add", str(mine))
    assert added.returncode == 0 and added.stdout == "added pipe 'mine' (mine)\nmodels: mine\n"
    assert not marker.exists()  # `other` was not loaded again


def test_run_with_a_manifolds_bare_id_lists_its_models(tmp_path: Path) -> None:
    db, pipe = tmp_path / "t.db", tmp_path / "many.py"
    pipe.write_text("class Pipe:\n    def pipes(self):\n        return [{'id': 'x', 'name': 'X'}, {'id': 'y', 'name': 'Y'}]\n\n    def pipe(self, body):\n        return 'm'\n")
    assert tuichat(db, "pipes", "add", str(pipe)).returncode == 0
    run = tuichat(db, "run", "many", "hi")
    assert run.returncode == 2 and run.stdout == ""
    assert "'many' is a manifold, not a model: its models are: many.x, many.y" in run.stderr
