"""Filters on the pipes screen (type, global, toggle, priority; `a` switches global), their
valves forms and the editor, and a model's settings (attached filters, default system prompt
and params) from the pipes screen (`m`) and the model picker (F4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, SelectionList, Static, TextArea

from tests.ui.helpers import chat_app, finished, open_pipes, opens, pick, select, send, stored, until
from tests.ui.test_chat_settings import with_pair
from tuichat.ui.screens.model_picker import ModelPicker
from tuichat.ui.screens.model_settings import ModelSettingsScreen
from tuichat.ui.screens.toggles import TogglesScreen
from tuichat.ui.screens.valves_form import ValvesScreen
from tuichat.ui.workshop.editor_screen import EditorScreen
from tuichat.ui.workshop.pipes_screen import PipesScreen

MODELS_COLUMN = 4


def models_cell(screen: PipesScreen, function_id: str) -> str:
    return screen.catalog.models_cell(screen.catalog.row(function_id))  # type: ignore[arg-type]


async def idle(pilot: Pilot[Any], screen: PipesScreen) -> None:
    await until(pilot, lambda: not screen.busy and pilot.app.screen is screen)
    await pilot.pause()


async def settings_loaded(pilot: Pilot[Any]) -> ModelSettingsScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, ModelSettingsScreen) and pilot.app.screen.row is not None)
    await pilot.pause()
    return pilot.app.screen  # type: ignore[return-value]


async def test_filters_show_global_toggle_and_priority_and_a_switches_global(db_path: Path) -> None:
    await with_pair(db_path)
    async with chat_app(db_path, (80, 24)) as (app, pilot, _chat):
        screen = await open_pipes(pilot)
        select(screen, "web_search")
        await idle(pilot, screen)
        assert models_cell(screen, "web_search") == "global toggle p5"
        detail = str(screen.query_one("#detail-models", Static).render())
        assert "global: runs for every model" in detail and "toggle: a chat switches it on (F10)" in detail
        assert "priority 5" in detail
        await pilot.press("a")
        await idle(pilot, screen)
        assert models_cell(screen, "web_search") == "0 models toggle p5"
        async with await stored(db_path) as store:
            assert not (await store.functions.get("web_search")).is_global
        await pilot.press("a", "t")  # global again, then off: as `pipes global` / `pipes disable`
        await until(pilot, lambda: not screen.catalog.row("web_search").is_active)  # type: ignore[union-attr]
        await idle(pilot, screen)
        async with await stored(db_path) as store:
            row = await store.functions.get("web_search")
            assert row.is_global and not row.is_active
        select(screen, "search")
        await pilot.pause()
        assert not screen.check_action("global", ())  # a pipe has no global flag


async def test_filter_valves_user_valves_and_editor_work_as_for_pipes(db_path: Path) -> None:
    await with_pair(db_path)
    async with chat_app(db_path, (100, 30)) as (app, pilot, chat):
        screen = await open_pipes(pilot)
        select(screen, "web_search")
        form = await opens(pilot, "v", ValvesScreen)
        await until(pilot, lambda: form.loaded)
        form.editor("priority").value = "1"  # type: ignore[attr-defined]
        await pilot.press("f2")
        await idle(pilot, screen)
        assert models_cell(screen, "web_search") == "global toggle p1"  # read from Valves(**saved)

        form = await opens(pilot, "u", ValvesScreen)
        await until(pilot, lambda: form.loaded)
        form.editor("region").value = "eu"  # type: ignore[attr-defined]
        await pilot.press("f2")
        await idle(pilot, screen)

        editor = await opens(pilot, "e", EditorScreen)
        await until(pilot, lambda: not editor.editor.read_only)
        editor.editor.text = editor.editor.text.replace("default=3,", "default=9,")
        await pilot.press("f2")
        await until(pilot, lambda: "saved" in str(editor.query_one("#status", Static).render()).lower())
        await pilot.press("escape")
        await idle(pilot, screen)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is chat)
        await pick(pilot, "search")
        await opens(pilot, "f10", TogglesScreen)
        await pilot.press("space", "enter")
        await until(pilot, lambda: chat.new_chat_settings.filter_ids == ["web_search"])
        await send(pilot, chat, "go")
        assert "search: on, 9 results from eu" in (await finished(pilot, chat)).reply.content


async def test_model_settings_from_the_pipes_screen_attach_a_filter_and_set_defaults(db_path: Path) -> None:
    await with_pair(db_path)
    async with await stored(db_path) as store:
        await store.functions.update("web_search", is_global=False)
    async with chat_app(db_path, (80, 24)) as (app, pilot, chat):
        screen = await open_pipes(pilot)
        select(screen, "web_search")
        await pilot.pause()
        assert not screen.check_action("model_settings", ())  # a filter serves no model
        select(screen, "search")
        await pilot.press("m")
        dialog = await settings_loaded(pilot)
        assert dialog.query_one("#model-name", Input).value == "Search Pipe"
        dialog.query_one("#model-filters", SelectionList).select("web_search")
        dialog.query_one("#model-system", TextArea).text = "Answer in French."
        dialog.query_one("#param-temperature", Input).value = "hot"
        await pilot.press("f2")
        error = str(dialog.query_one("#param-error-temperature", Static).render())
        assert error == "Temperature: 'hot' is not a number" and app.screen is dialog
        dialog.query_one("#param-temperature", Input).value = "0.3"
        await pilot.press("f2")
        await idle(pilot, screen)
        assert models_cell(screen, "web_search") == "1 model toggle p5"
        async with await stored(db_path) as store:
            row = await store.model_settings.get("search")
            assert (row.name, row.meta, row.params) == (
                "Search Pipe", {"filterIds": ["web_search"]}, {"temperature": 0.3, "system": "Answer in French."}
            )  # fmt: skip

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is chat)
        await pick(pilot, "search")
        toggles = await opens(pilot, "f10", TogglesScreen)  # attached, so this model offers it
        assert [t.id for t in toggles.toggles] == ["web_search"]
        await pilot.press("escape")
        chat.query_one("#prompt").focus()
        await send(pilot, chat, "hi")
        content = (await finished(pilot, chat)).reply.content
        assert "temperature: 0.3" in content and "system: Answer in French." in content and "search: off" in content


async def test_model_settings_from_the_picker_and_a_filter_gone_meanwhile(db_path: Path) -> None:
    await with_pair(db_path)
    async with chat_app(db_path, (80, 24)) as (app, pilot, chat):
        picker = await opens(pilot, "ctrl+o", ModelPicker)
        await pilot.press(*"search", "f4")
        dialog = await settings_loaded(pilot)
        assert dialog.model_id == "search"
        dialog.query_one("#model-filters", SelectionList).select("web_search")
        async with await stored(db_path) as store:
            await store.functions.delete("web_search")
        await pilot.press("f2")
        await until(pilot, lambda: dialog.query_one("#model-error").has_class("-shown"))
        text = str(dialog.query_one("#model-error", Static).render())
        assert text.startswith("Not saved: no filter 'web_search' is stored")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is picker)
        async with await stored(db_path) as store:
            assert await store.model_settings.get("search") is None  # nothing was saved


async def test_m_on_a_manifold_picks_the_sub_model_first(db_path: Path) -> None:
    async with chat_app(db_path, (80, 24)) as (app, pilot, _chat):  # a new store: the examples
        screen = await open_pipes(pilot)
        select(screen, "manifold")
        picker = await opens(pilot, "m", ModelPicker)
        assert [model for _, model in picker.rows if model] == ["manifold.reverse", "manifold.shout", "manifold.count"]
        await pilot.press(*"shout", "enter")
        dialog = await settings_loaded(pilot)
        assert (dialog.model_id, dialog.query_one("#model-name", Input).value) == ("manifold.shout", "Demo/Shout")
        await pilot.press("f2")
        await idle(pilot, screen)
        async with await stored(db_path) as store:
            row = await store.model_settings.get("manifold.shout")
            assert (row.name, row.meta, row.params) == ("Demo/Shout", {"filterIds": []}, {})
