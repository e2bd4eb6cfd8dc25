"""The modal screens, driven by keyboard at 80x24: model picker, event-call dialogs, prompts.

Each test pushes one screen on a tiny host app with a result callback and checks what the
callback got, which for the event-call dialogs is exactly what Open WebUI returns (spec §9).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.pilot import Pilot
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Markdown, OptionList, Select, TextArea

from tests.ui.helpers import ScreenHost
from tuichat.runtime.host import ModelListing
from tuichat.runtime.models import FunctionModels
from tuichat.store import FunctionRow
from tuichat.ui.screens.event_call import ConfirmationDialog, InputDialog, dialog_for
from tuichat.ui.screens.model_picker import ModelPicker
from tuichat.ui.screens.prompts import ConfirmScreen, DialogScreen, TextPromptScreen

SIZE = (80, 24)


@asynccontextmanager
async def hosted(dialog: Screen[Any]) -> AsyncIterator[tuple[ScreenHost, Pilot[None]]]:
    app = ScreenHost(dialog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        yield app, pilot


async def answer(dialog: Screen[Any], *keys: str) -> list[Any]:
    """Press `keys` on `dialog`; every result it gave, and check it closed."""
    async with hosted(dialog) as (app, pilot):
        await pilot.press(*keys)
        await pilot.pause()
        assert app.screen is not dialog, "the dialog should have closed"
        return app.results


def screen_text(app: App[Any]) -> str:
    return app.export_screenshot().replace("&#160;", " ")


# -- model picker ------------------------------------------------------------------------
def model(model_id: str, name: str) -> dict[str, Any]:
    return {"id": model_id, "name": name, "object": "model"}


def make_listing() -> ModelListing:
    functions = [
        FunctionModels("echo", [model("echo", "Echo")]),
        FunctionModels(
            "manifold",
            [
                model("manifold.upper", "Manifold/Upper"),
                model("manifold.reverse", "Manifold/Reverse"),
                model("manifold.slow", "Manifold/Slow"),
            ],
        ),
        FunctionModels("broken", [], "pipes failed: ConnectionError: unreachable\nTraceback (most recent call last): …"),
    ]
    inactive = FunctionRow(
        id="old_pipe", user_id=None, name="Old", type="pipe", content="", meta={}, valves={}, is_active=False,
        is_global=False, created_at=0, updated_at=0, load_error="SyntaxError: invalid syntax (old_pipe.py, line 3)\n  x = ",
    )  # fmt: skip
    return ModelListing([m for f in functions for m in f.models], functions, [inactive])


def picker_of(app: ScreenHost) -> ModelPicker:
    assert isinstance(app.dialog, ModelPicker)
    return app.dialog


async def test_picker_groups_models_by_function_and_highlights_the_current_one() -> None:
    async with hosted(ModelPicker(make_listing(), "manifold.slow")) as (app, _):
        picker = picker_of(app)
        assert [text for text, model_id in picker.rows if model_id is None][:2] == ["echo", "manifold"]
        assert ("Manifold/Reverse  manifold.reverse", "manifold.reverse") in picker.rows
        assert ("Echo  echo", "echo") in picker.rows
        assert picker.highlighted_model == "manifold.slow"
        assert ("Manifold/Slow  manifold.slow  ✓ current", "manifold.slow") in picker.rows, "the current model is marked"
        assert isinstance(app.focused, Input) and app.focused.placeholder == "Type to filter models"
        assert "4 models" in screen_text(app)


async def test_picker_fuzzy_filter_puts_the_best_match_first_and_enter_picks_it() -> None:
    async with hosted(ModelPicker(make_listing(), "echo")) as (app, pilot):
        await pilot.press("r", "e", "v")
        picker = picker_of(app)
        assert next(model_id for _, model_id in picker.rows if model_id) == "manifold.reverse"
        assert picker.highlighted_model == "manifold.reverse"
        assert "echo" not in [text for text, _ in picker.rows], "a group with no match vanishes"
        assert "1 of 4 models" in screen_text(app), "the count follows the filter"
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == ["manifold.reverse"]


async def test_picker_arrows_move_the_list_while_the_filter_keeps_focus() -> None:
    async with hosted(ModelPicker(make_listing(), "echo")) as (app, pilot):
        picker = picker_of(app)
        await pilot.press("down")  # past the "manifold" heading
        assert picker.highlighted_model == "manifold.upper"
        await pilot.press("down", "down", "up")
        assert picker.highlighted_model == "manifold.reverse"
        assert isinstance(app.focused, Input)
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == ["manifold.reverse"]


async def test_picker_escape_cancels_with_none() -> None:
    assert await answer(ModelPicker(make_listing(), "echo"), "escape") == [None]


async def test_picker_shows_failed_functions_greyed_and_never_selects_them() -> None:
    async with hosted(ModelPicker(make_listing(), "echo")) as (app, pilot):
        picker = picker_of(app)
        rows = dict(picker.rows)
        assert rows["✗ not available: pipes failed: ConnectionError: unreachable"] is None
        assert rows["✗ not available: SyntaxError: invalid syntax (old_pipe.py, line 3)"] is None
        assert rows["broken"] is None and rows["old_pipe"] is None
        assert "Traceback" not in screen_text(app), "only the error's first line is shown"
        option_list = picker.query_one("#models", OptionList)
        assert all(option.disabled for option, (_, model_id) in zip(option_list.options, picker.rows) if model_id is None)
        seen = set()
        for _ in range(10):  # all the way round, twice
            await pilot.press("down")
            seen.add(picker.highlighted_model)
        assert seen == {"echo", "manifold.upper", "manifold.reverse", "manifold.slow"}


async def test_picker_filter_on_a_failed_function_id_explains_why_its_models_are_missing() -> None:
    async with hosted(ModelPicker(make_listing(), None)) as (app, pilot):
        await pilot.press(*"broken")
        picker = picker_of(app)
        assert [text for text, _ in picker.rows] == ["broken", "✗ not available: pipes failed: ConnectionError: unreachable"]
        assert "No model matches “broken”." in screen_text(app)
        await pilot.press("enter")  # nothing to pick: the picker stays open
        await pilot.pause()
        assert app.screen is picker and app.results == []


async def test_picker_loading_then_set_listing_keeps_the_filter() -> None:
    async with hosted(ModelPicker(None, "echo", loading=True)) as (app, pilot):
        picker = picker_of(app)
        assert "Loading models…" in screen_text(app)
        await pilot.press("enter")  # nothing to pick yet
        await pilot.press("r", "e", "v")
        picker.set_listing(make_listing())
        await pilot.pause()
        assert "Loading models…" not in screen_text(app)
        assert picker.highlighted_model == "manifold.reverse"
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == ["manifold.reverse"]


async def test_picker_set_listing_highlights_the_current_model() -> None:
    async with hosted(ModelPicker(None, "manifold.slow", loading=True)) as (app, pilot):
        picker_of(app).set_listing(make_listing())
        await pilot.pause()
        assert picker_of(app).highlighted_model == "manifold.slow"


async def test_picker_with_no_pipes_says_how_to_add_one() -> None:
    async with hosted(ModelPicker(ModelListing([]), None)) as (app, pilot):
        assert "tuichat pipes add FILE" in screen_text(app)
        assert picker_of(app).rows == []
        await pilot.press("enter")
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_picker_with_only_failed_pipes_lists_errors_and_how_to_add_one() -> None:
    listing = make_listing()
    only_failed = ModelListing([], [f for f in listing.functions if f.error], listing.inactive)
    async with hosted(ModelPicker(only_failed, None)) as (app, _):
        text = screen_text(app)
        assert "tuichat pipes add FILE" in text and "SyntaxError: invalid syntax" in text
        assert picker_of(app).highlighted_model is None


# -- event-call dialogs ------------------------------------------------------------------
CONFIRM = {"type": "confirmation", "data": {"title": "Delete files?", "message": "This removes **3** files:\n\n- a\n- b"}}


def event_dialog(event: dict[str, Any]) -> ModalScreen[Any]:
    dialog = dialog_for(event)
    assert dialog is not None
    return dialog


def input_event(**data: Any) -> dict[str, Any]:
    return {"type": "input", "data": {"title": "Your name", "message": "Who *are* you?", **data}}


def test_dialog_for_picks_the_dialog_by_event_type() -> None:
    assert isinstance(dialog_for(CONFIRM), ConfirmationDialog)
    assert isinstance(dialog_for(input_event()), InputDialog)
    assert isinstance(dialog_for({"type": "input"}), InputDialog)  # no data at all
    assert dialog_for({"type": "execute", "data": {"code": "return 1"}}) is None
    assert dialog_for({"type": "status", "data": {}}) is None
    assert isinstance(dialog_for(CONFIRM), ModalScreen)


async def test_confirmation_enter_returns_true_and_renders_markdown() -> None:
    dialog = event_dialog(CONFIRM)
    async with hosted(dialog) as (app, pilot):
        text = screen_text(app)
        assert "Delete files?" in text and "**" not in text and "removes" in text
        assert dialog.query_one(Markdown)
        await pilot.press("enter")
        await pilot.pause()
    assert app.results == [True]


async def test_confirmation_escape_or_cancel_returns_false() -> None:
    assert await answer(event_dialog(CONFIRM), "escape") == [False]
    assert await answer(event_dialog(CONFIRM), "tab", "enter") == [False]  # Tab to Cancel, Enter presses it


async def test_input_returns_the_entered_string() -> None:
    assert await answer(event_dialog(input_event(placeholder="name")), "b", "o", "b", "enter") == ["bob"]


async def test_input_returns_empty_string_on_empty_confirm_and_false_on_cancel() -> None:
    assert await answer(event_dialog(input_event()), "enter") == [""]
    assert await answer(event_dialog(input_event(value="x")), "escape") == [False]


async def test_input_prefill_value_and_placeholder() -> None:
    dialog = event_dialog(input_event(value="alice", placeholder="your name"))
    async with hosted(dialog) as (app, pilot):
        field = dialog.query_one("#value", Input)
        assert field.value == "alice" and field.placeholder == "your name" and not field.password
        await pilot.press("end", "2", "enter")
        await pilot.pause()
    assert app.results == ["alice2"]


async def test_password_input_is_masked_for_both_type_forms() -> None:
    for event in (input_event(type="password", value="hunter"), input_event(input={"type": "password"}, value="hunter")):
        dialog = event_dialog(event)
        async with hosted(dialog) as (app, pilot):
            assert dialog.query_one("#value", Input).password
            assert "hunter" not in screen_text(app)
            await pilot.press("2", "enter")
            await pilot.pause()
        assert app.results == ["hunter2"]


async def test_select_returns_the_chosen_option_value() -> None:
    options = ["red", {"label": "Green", "value": "g"}, {"label": "Blue", "value": "b"}]
    dialog = event_dialog(input_event(options=options))
    async with hosted(dialog) as (app, pilot):
        assert isinstance(app.focused, Select)
        await pilot.press("enter")  # open the list
        await pilot.pause()
        await pilot.press("down", "down", "enter")  # blank prompt -> red -> Green
        await pilot.pause()
        await pilot.press("ctrl+j")
        await pilot.pause()
    assert app.results == ["g"]


async def test_select_prefilled_from_value_and_blank_confirms_empty_string() -> None:
    options = [{"label": "One", "value": "1"}, {"label": "Two", "value": "2"}]
    assert await answer(event_dialog(input_event(input={"type": "select", "options": options}, value="2")), "ctrl+j") == ["2"]
    assert await answer(event_dialog(input_event(options=["a", "b"])), "tab", "enter") == [""]
    assert await answer(event_dialog(input_event(options=["a", "b"])), "escape") == [False]


async def test_textarea_input_ctrl_j_is_a_newline_and_enter_confirms_as_in_the_prompt() -> None:
    dialog = event_dialog(input_event(type="textarea", value="one"))
    async with hosted(dialog) as (app, pilot):
        assert isinstance(app.focused, TextArea)
        assert "Enter confirm" in screen_text(app) and "ctrl+j new line" in screen_text(app)
        await pilot.press("end", "ctrl+j", "t", "w", "o", "enter")
        await pilot.pause()
    assert app.results == ["one\ntwo"]


# -- closing from outside ----------------------------------------------------------------
async def test_dialogs_close_from_outside_with_dismiss_false() -> None:
    for event in (CONFIRM, input_event(), input_event(options=["a"]), input_event(type="textarea")):
        dialog = event_dialog(event)
        async with hosted(dialog) as (app, pilot):
            dialog.dismiss(False)
            await pilot.pause()
            assert app.screen is not dialog and not dialog.is_attached
            dialog.dismiss(False)  # again, as a stopped reply's cleanup may: nothing happens
            await pilot.pause()
        assert app.results == [False]


async def test_dismiss_after_the_user_answered_changes_nothing() -> None:
    dialog = event_dialog(CONFIRM)
    async with hosted(dialog) as (app, pilot):
        await pilot.press("enter")
        dialog.dismiss(False)
        await pilot.pause()
        assert len(app.screen_stack) == 1
    assert app.results == [True]


async def test_dismiss_under_another_screen_answers_now_and_leaves_when_uncovered() -> None:
    dialog = event_dialog(input_event())
    async with hosted(dialog) as (app, pilot):
        above = ConfirmScreen("Something else?")
        above_results: list[Any] = []
        app.push_screen(above, above_results.append)
        await pilot.pause()
        dialog.dismiss(False)
        await pilot.pause()
        assert app.results == [False]
        assert app.screen is above, "the screen above is left alone"
        await pilot.press("y")
        await pilot.pause()
        assert above_results == [True]
        assert len(app.screen_stack) == 1, "the dismissed dialog left once uncovered"
    assert app.results == [False]


async def test_dismiss_right_after_push() -> None:
    results: list[Any] = []
    app = App[None]()
    async with app.run_test(size=SIZE) as pilot:
        dialog = event_dialog(CONFIRM)
        app.push_screen(dialog, results.append)
        dialog.dismiss(False)
        await pilot.pause()
        assert len(app.screen_stack) == 1
    assert results == [False]


# -- prompts -----------------------------------------------------------------------------
async def test_confirm_screen_defaults_to_no() -> None:
    assert await answer(ConfirmScreen("Delete the chat?"), "enter") == [False]
    assert await answer(ConfirmScreen("Delete the chat?"), "escape") == [False]
    assert await answer(ConfirmScreen("Delete the chat?"), "n") == [False]


async def test_confirm_screen_yes_by_key_or_button() -> None:
    assert await answer(ConfirmScreen("Delete the chat?"), "y") == [True]
    assert await answer(ConfirmScreen("Delete the chat?"), "left", "enter") == [True]


async def test_text_prompt_single_line() -> None:
    dialog = TextPromptScreen("Rename chat", "Old")
    async with hosted(dialog) as (app, pilot):
        assert dialog.query_one("#text", Input).value == "Old"
        assert "Enter save" in screen_text(app)
        await pilot.press("end", "backspace", "backspace", "backspace", "N", "e", "w", "enter")
        await pilot.pause()
    assert app.results == ["New"]
    assert await answer(TextPromptScreen("Rename chat", "Old"), "escape") == [None]


async def test_text_prompt_refuses_empty_when_asked() -> None:
    async with hosted(TextPromptScreen("Rename chat", "", allow_empty=False)) as (app, pilot):
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.dialog and app.results == []


async def test_text_prompt_multiline_ctrl_j_is_newline_enter_saves_as_in_the_prompt() -> None:
    dialog = TextPromptScreen("System prompt", "Be brief.", multiline=True)
    async with hosted(dialog) as (app, pilot):
        assert isinstance(app.focused, TextArea)
        assert "Enter save" in screen_text(app) and "ctrl+j new line" in screen_text(app)
        await pilot.press("ctrl+j", "O", "k", "enter")
        await pilot.pause()
    assert app.results == ["Be brief.\nOk"]


async def test_text_prompt_multiline_save_button() -> None:
    assert await answer(TextPromptScreen("System prompt", "x", multiline=True), "tab", "enter") == ["x"]


async def test_long_message_scrolls_and_the_buttons_stay_on_an_80x24_screen() -> None:
    message = "\n\n".join(f"Paragraph {i} of a long explanation." for i in range(20))
    for event in (CONFIRM | {"data": {"message": message}}, input_event(message=message, type="textarea")):
        async with hosted(event_dialog(event)) as (app, pilot):
            text = screen_text(app)
            assert "Confirm" in text and "Cancel" in text and "Esc cancel" in text
            assert "Paragraph 19" not in text, "the message scrolls instead"
            await pilot.press("escape")
            await pilot.pause()
        assert app.results == [False]


# -- the dialog frame (dialog.tcss) ------------------------------------------------------------
class Elsewhere(DialogScreen[None]):
    """A dialog defined outside tuichat/ui/screens, as the pipes, editor and install dialogs are."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Elsewhere"
            yield Label("Body", classes="dialog--title")
            yield self.keys_hint(("Esc", "close"))


class NarrowElsewhere(Elsewhere):
    DEFAULT_CSS = "NarrowElsewhere > .dialog { width: 40; }"


def frame(app: ScreenHost) -> tuple[int, int, str]:
    """The dialog box's width, its left edge, and its border."""
    assert app.dialog is not None
    box = app.dialog.query_one(".dialog")
    return box.region.width, box.region.x, box.styles.border_top[0]


async def test_the_dialog_frame_applies_to_a_subclass_in_another_module() -> None:
    async with hosted(Elsewhere()) as (app, _):
        assert frame(app) == (64, (SIZE[0] - 64) // 2, "thick")  # the frame's width, centred, bordered
        text = screen_text(app)
        assert "Elsewhere" in text and "Esc close" in text


async def test_a_subclass_stylesheet_overrides_the_frame(tmp_path: Path) -> None:
    stylesheet = tmp_path / "filed.tcss"
    stylesheet.write_text("FiledElsewhere > .dialog { width: 50; }")
    filed = type("FiledElsewhere", (Elsewhere,), {"CSS_PATH": stylesheet})
    async with hosted(filed()) as (app, _):
        assert frame(app) == (50, (SIZE[0] - 50) // 2, "thick")  # its CSS_PATH wins, the frame stays
    async with hosted(NarrowElsewhere()) as (app, _):
        assert frame(app) == (40, (SIZE[0] - 40) // 2, "thick")  # so does its DEFAULT_CSS
