"""The packages Open WebUI guarantees every pipe are there from tuichat's first install: a pipe
importing them at top level, undeclared, loads offline and chats (a real `tuichat` process)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import tuichat
from tests.openai_server import API_KEY, OpenAIServer, openai_server_fixture  # noqa: F401 - the fixture

PUBLISHED = Path(__file__).parent / "published"
GUARANTEED = ["requests", "aiohttp", "httpx", "fastapi", "starlette.requests", "loguru", "cryptography.fernet"]


def test_every_guaranteed_package_imports_in_an_offline_pipe(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    imports = "\n".join(f"import {name}" for name in GUARANTEED)
    (tmp_path / "uses_all.py").write_text(f"{imports}\n\n\nclass Pipe:\n    def pipe(self, body):\n        return 'all there'\n")
    added = tuichat(db, "--offline", "pipes", "add", str(tmp_path / "uses_all.py"))
    assert added.returncode == 0, added.stderr
    ran = tuichat(db, "run", "uses_all", "hi", "--no-save")
    assert (ran.returncode, ran.stdout) == (0, "all there\n"), ran.stderr


def test_a_fernet_key_valve_pipe_loads_offline_and_chats(tmp_path: Path, openai_server: OpenAIServer) -> None:
    db = tmp_path / "db.sqlite"
    added = tuichat(db, "--offline", "pipes", "add", str(PUBLISHED / "fernet_valves.py"), "--id", "fernet")
    assert added.returncode == 0, added.stderr
    valves = {"BASE_URL": openai_server.url, "API_KEY": API_KEY}
    assert tuichat(db, "pipes", "valves", "fernet", "--set", json.dumps(valves)).returncode == 0
    ran = tuichat(db, "run", "fernet", "hello there", "--no-save")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "[gpt-4o-mini] You said: hello there\n"
