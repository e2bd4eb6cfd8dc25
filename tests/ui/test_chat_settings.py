"""A chat's toggles (F10) and params (F12): chosen in dialogs, stored in the chat's row, shown
in the header, and what the pipe receives changes with them (the Web Search look-alike pair in
tests/pipes/chatpath: the toggle filter sets a flag the pipe reads and marks the reply)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, SelectionList

from tests.ui.helpers import chat_app, finished, opens, pick, screen_lines, send, stored, until
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.screens.chat_params import ChatParamsScreen
from tuichat.ui.screens.toggles import TogglesScreen

PAIR = Path(__file__).parent.parent / "pipes" / "chatpath"


async def with_pair(db_path: Path) -> None:
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            library = FunctionLibrary(host)
            await library.add((PAIR / "search_pipe.py").read_text(), function_id="search")
            await library.add((PAIR / "web_search_toggle.py").read_text(), function_id="web_search")
        await store.functions.update("web_search", is_global=True)


async def test_a_toggle_switched_on_changes_what_the_pipe_receives_and_is_stored(db_path: Path) -> None:
    await with_pair(db_path)
    async with chat_app(db_path, (100, 30)) as (app, pilot, screen):
        await pick(pilot, "search")
        await send(pilot, screen, "weather?")
        off = (await finished(pilot, screen)).reply.content
        assert "search: off" in off and "filter_ids: none" in off and "searched the web" not in off

        dialog = await opens(pilot, "f10", TogglesScreen)
        options = dialog.query_one("#toggles", SelectionList)
        assert "Web Search  (web_search)" in str(options.get_option_at_index(0).prompt)
        await pilot.press("space", "enter")
        await until(pilot, lambda: screen.chat is not None and screen.chat.filter_ids == ["web_search"])
        assert "⚑web_search" in screen.sub_title

        await send(pilot, screen, "and now?")
        on = (await finished(pilot, screen)).reply.content
        assert "search: on, 3 results from us" in on and "filter_ids: web_search" in on
        assert on.endswith("🔎 searched the web (up to 3 results)")  # the filter's outlet marked it

        async with await stored(db_path) as store:  # kept in the chat's row
            assert (await store.chats.get(screen.chat.id)).filter_ids == ["web_search"]

        await opens(pilot, "f10", TogglesScreen)
        await pilot.press("space", "enter")
        await until(pilot, lambda: screen.chat.filter_ids == [])
        assert "⚑" not in screen.sub_title
        await send(pilot, screen, "off again?")
        assert "search: off" in (await finished(pilot, screen)).reply.content


async def test_a_model_without_toggles_says_how_to_get_one(db_path: Path) -> None:
    await with_pair(db_path)
    async with await stored(db_path) as store:
        await store.functions.update("web_search", is_global=False)
    async with chat_app(db_path, (80, 24)) as (app, pilot, screen):
        await pick(pilot, "search")
        dialog = await opens(pilot, "f10", TogglesScreen)
        text = " ".join(str(w.render()) for w in dialog.query(".toggles--none"))
        assert "This model has no toggles" in text and "self.toggle = True" in text
        await pilot.press("escape")


async def test_chat_params_reach_the_pipe_show_in_the_header_and_bad_ones_name_their_field(db_path: Path) -> None:
    await with_pair(db_path)
    async with chat_app(db_path, (80, 24)) as (app, pilot, screen):
        await pick(pilot, "search")
        dialog = await opens(pilot, "f12", ChatParamsScreen)  # before the first message: kept for the new chat
        dialog.query_one("#param-temperature", Input).value = "3"
        dialog.query_one("#param-max_tokens", Input).value = "many"
        dialog.query_one("#param-custom", Input).value = '{"temperature": 1}'
        await pilot.press("f2")
        errors = {w.id: str(w.render()) for w in dialog.query(".param--error.-shown")}
        assert errors == {
            "param-error-temperature": "Temperature: 3 is out of range: give 0 to 2",
            "param-error-max_tokens": "Max tokens: 'many' is not a whole number",
            "param-error-custom": "Custom: 'temperature' has its own field above: set it there",
        }
        assert app.screen is dialog  # nothing saved
        values = {"temperature": "0.2", "max_tokens": "50", "seed": "7", "stop": "END, STOP",
                  "function_calling": "legacy", "custom": '{"num_ctx": 8192}'}  # fmt: skip
        for key, value in values.items():
            dialog.query_one(f"#param-{key}", Input).value = value
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert "t0.2 max50 seed7 stop×2 legacy +1" in screen.sub_title
        await until(pilot, lambda: "t0.2 max50 seed7 stop×2 legacy +1" in screen_lines(app)[0])  # fits in 80 columns

        await send(pilot, screen, "hi")
        content = (await finished(pilot, screen)).reply.content
        for line in ("temperature: 0.2", "max_tokens: 50", "seed: 7", "stop: ['END', 'STOP']",
                     "function_calling: legacy", "custom: {'num_ctx': 8192}"):  # fmt: skip
            assert line in content
        async with await stored(db_path) as store:
            assert (await store.chats.get(screen.chat.id)).params == {
                "temperature": 0.2, "max_tokens": 50, "seed": 7, "stop": ["END", "STOP"],
                "function_calling": "legacy", "num_ctx": 8192,
            }  # fmt: skip
