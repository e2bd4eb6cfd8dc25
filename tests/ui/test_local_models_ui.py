"""The `local` pipe in the app: a server started after tuichat shows up when the picker opens,
and its reply streams with its usage (tests/scripted_server.py is the server)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.scripted_server import ScriptedServer
from tests.ui.helpers import chat_app, finished, send, stored, until
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.screens.model_picker import ModelPicker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def seeded_with_base_url(db_path: Path, url: str) -> None:
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            library = FunctionLibrary(host)
            await library.seed_examples()
            await library.set_valves("local", {"BASE_URL": url})


def local_rows(picker: ModelPicker) -> list[str]:
    return [text for text, model in picker.rows if model is not None and model.startswith("local.")]


async def test_a_server_started_later_appears_in_the_picker_and_chats(db_path: Path) -> None:
    port = free_port()
    await seeded_with_base_url(db_path, f"http://127.0.0.1:{port}/v1")
    async with chat_app(db_path, (100, 30)) as (app, pilot, screen):
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, ModelPicker))
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        await until(pilot, lambda: bool(local_rows(picker)))
        assert any("no models at BASE_URL" in row for row in local_rows(picker))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))

        with ScriptedServer(port) as server:
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, ModelPicker))
            picker = app.screen
            assert isinstance(picker, ModelPicker)
            await until(pilot, lambda: any("Local/plain" in row for row in local_rows(picker)))
            await pilot.press(*"local/plain", "enter")
            await until(pilot, lambda: isinstance(app.screen, ChatScreen))
            assert screen.model_id == "local.plain"
            await send(pilot, screen, "hi")
            reply = await finished(pilot, screen)
            assert reply.reply.content == "Hello from plain."
            assert reply.reply.usage == {"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12}
            assert server.recorder.chats()[0].body["messages"][-1] == {"role": "user", "content": "hi"}
