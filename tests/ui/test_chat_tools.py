"""Tools chosen in the app: a user selects a tool in the chat's F10 dialog and the agent example
runs it against the scripted server (tests/scripted_server.py); the selection is stored with the
chat and shown in the header; a model's attached tools (model settings) show selected and locked."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import SelectionList

from tests.scripted_server import ScriptedServer
from tests.ui.helpers import chat_app, finished, opens, pick, send, stored, until
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.model_settings import save_row
from tuichat.ui.screens.toggles import TogglesScreen
from tuichat.ui.widgets.activity import ActivityPane

ROOT = Path(__file__).parent.parent.parent
AGENT = ROOT / "tuichat" / "examples" / "agent.py"
TOOLS = ROOT / "tests" / "pipes" / "tools"


async def with_agent(db_path: Path, url: str) -> None:
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            library = FunctionLibrary(host)
            await library.add(AGENT.read_text(), function_id="agent")
            await library.set_valves("agent", {"BASE_URL": url, "MODEL": "toolcaller"})
            await library.add((TOOLS / "weather_tools.py").read_text(), function_id="weather")
            await library.add((TOOLS / "fuse_tools.py").read_text(), function_id="fuse")


async def test_a_tool_selected_with_f10_is_run_by_the_agent_and_stored_with_the_chat(db_path: Path) -> None:
    with ScriptedServer() as server:
        await with_agent(db_path, server.url)
        async with chat_app(db_path, (100, 30)) as (app, pilot, screen):
            await pick(pilot, "agent")
            await send(pilot, screen, "weather?")
            assert (await finished(pilot, screen)).reply.content == "I have no tools."

            dialog = await opens(pilot, "f10", TogglesScreen)
            tools = dialog.query_one("#tools", SelectionList)
            assert [str(tools.get_option_at_index(i).prompt) for i in range(tools.option_count)] == [
                "Weather Tools  (weather) · the weather in a city (with a status event) and a sum, for the agent tests.",
                "Fuse Tools  (fuse) · a tool that emits a status, then raises, for the activity pane's attribution.",
            ]
            tools.focus()
            await pilot.press("space", "enter")
            await until(pilot, lambda: screen.chat is not None and screen.chat.tool_ids == ["weather"])
            assert "⚒weather" in screen.sub_title

            await send(pilot, screen, "and now?")
            reply = (await finished(pilot, screen)).reply
            assert reply.content.endswith("Done: add said 5; get_weather said Sunny, 21 °C in Paris")
            assert 'name="get_weather"' in reply.content
            activity = "\n".join(str(line.text) for line in screen.query_one(ActivityPane).lines)
            assert "[tool weather get_weather] status: Looking outside in Paris" in activity
            assert "[tool weather add] called (a=2, b=3)" in activity
        async with await stored(db_path) as store:
            chat = (await store.chats.list())[0]
            assert chat.tool_ids == ["weather"]


async def test_a_models_attached_tool_shows_selected_and_locked_and_runs(db_path: Path) -> None:
    with ScriptedServer() as server:
        await with_agent(db_path, server.url)
        async with await stored(db_path) as store:
            await save_row(store, "agent", {"name": "Agent"}, tools=["weather"])
        async with chat_app(db_path, (80, 24)) as (app, pilot, screen):
            await pick(pilot, "agent")
            dialog = await opens(pilot, "f10", TogglesScreen)
            weather = dialog.query_one("#tools", SelectionList).get_option_at_index(0)
            assert weather.disabled and "the model's" in str(weather.prompt)
            assert "weather" in dialog.query_one("#tools", SelectionList).selected
            await pilot.press("escape")
            await send(pilot, screen, "weather?")
            assert (await finished(pilot, screen)).reply.content.endswith("get_weather said Sunny, 21 °C in Paris")
