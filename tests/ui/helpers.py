"""Pilot helpers shared by the UI tests: wait for a state, reach the chat screen once its models
are listed, pick a model, send a message and wait for its reply, open the pipes screen and
point at a row, answer the prompts, a bare host app for testing one screen on its own, and
a count of the screen's layouts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.app import App
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input

from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.screens.model_picker import ModelPicker
from tuichat.ui.screens.prompts import ConfirmScreen, TextPromptScreen
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.workshop.pipes_screen import PipesScreen

S = TypeVar("S", bound=Screen[Any])
T = TypeVar("T")


def screen_lines(app: App[Any]) -> list[str]:
    """The text the compositor paints, line by line."""
    return ["".join(segment.text for segment in strip).rstrip() for strip in app.screen._compositor.render_strips()]


async def settled(pilot: Pilot[Any], state: Callable[[], T], tries: int = 100) -> T:
    """`state()` once it has stopped changing (layouts come a refresh or two after a change).

    Stopped means: the same over three looks 50 ms apart, with no layout or repaint waiting
    in between. Under load the screen's refresh timer can miss a 50 ms pause, and a widget
    whose size a layout changed asks for a second one, so two equal looks could both be the
    picture between those layouts."""
    last, same = None, 0
    for _ in range(tries):
        await pilot.pause(0.05)
        now = state()
        screen = pilot.app.screen
        waiting = screen._layout_required or screen._repaint_required or screen._dirty_widgets
        same = same + 1 if now == last and not waiting else 0
        if same == 2:
            return now
        last = now
    raise AssertionError("never settled")


async def until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for the app to reach a state, giving it turns to run."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.02)


@contextmanager
def restyles(app: App[Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[DOMNode]]:
    """The nodes the stylesheet restyles meanwhile."""
    restyled: list[DOMNode] = []
    update = app.stylesheet.update_nodes

    def counted(nodes: Any, animate: bool = False) -> None:
        nodes = list(nodes)
        restyled.extend(nodes)
        update(nodes, animate=animate)

    with monkeypatch.context() as patch:
        patch.setattr(app.stylesheet, "update_nodes", counted)
        yield restyled


# -- the chat screen -------------------------------------------------------------------------
@asynccontextmanager
async def chat_app(db_path: Path, size: tuple[int, int]) -> AsyncIterator[tuple[TuichatApp, Pilot[Any], ChatScreen]]:
    """The app on `db_path`, run headless at `size`, once its chat screen has listed the models."""
    app = TuichatApp(db_path)
    async with app.run_test(size=size) as pilot:
        yield app, pilot, await ready(pilot)


def chat_screen(app: App[Any]) -> ChatScreen:
    """The chat screen, wherever it is in the stack."""
    return next(s for s in app.screen_stack if isinstance(s, ChatScreen))


async def ready(pilot: Pilot[Any]) -> ChatScreen:
    """The chat screen, once the runtime has listed the models."""
    await until(pilot, lambda: any(isinstance(s, ChatScreen) for s in pilot.app.screen_stack))
    screen = chat_screen(pilot.app)
    await until(pilot, lambda: screen.listing is not None)
    return screen


async def pick(pilot: Pilot[Any], query: str) -> None:
    """Choose a model in the picker (ctrl+o) by typing `query` and Enter."""
    await pilot.press("ctrl+o")
    await until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker))
    await pilot.press(*query)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))


async def send(pilot: Pilot[Any], screen: ChatScreen, text: str) -> None:
    """Type and send a message; returns once its reply has started (it may have finished)."""
    before = len(screen.query_one(Conversation).replies())
    await pilot.press(*text)
    await pilot.press("enter")
    await until(pilot, lambda: len(screen.query_one(Conversation).replies()) > before)


async def finished(pilot: Pilot[Any], screen: ChatScreen) -> ReplyView:
    """The last reply, once its turn is over."""
    await until(pilot, lambda: not screen.streaming)
    return screen.query_one(Conversation).replies()[-1]


async def chat_with(pilot: Pilot[Any], screen: ChatScreen, model: str, text: str) -> ReplyView:
    """Pick `model`, send `text` and wait for the whole reply."""
    await pick(pilot, model)
    await send(pilot, screen, text)
    return await finished(pilot, screen)


# -- the pipes screen ------------------------------------------------------------------------
async def open_pipes(pilot: Pilot[Any]) -> PipesScreen:
    """From the chat screen, once it has listed the models, press F7."""
    await ready(pilot)
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(pilot.app.screen, PipesScreen) and pilot.app.screen.loaded)
    screen = pilot.app.screen
    assert isinstance(screen, PipesScreen)
    return screen


def select(screen: PipesScreen, function_id: str) -> None:
    """Move the table's cursor to the row of `function_id`."""
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(function_id))


def cell(screen: PipesScreen, function_id: str, column: int) -> str:
    """The text in `column` of the row of `function_id`."""
    table = screen.query_one(DataTable)
    return str(table.get_row_at(table.get_row_index(function_id))[column])


# -- dialogs and prompts -----------------------------------------------------------------------
async def opens(pilot: Pilot[Any], key: str, kind: type[S]) -> S:
    """Press `key` and wait for a screen of `kind` to open on top; returns it."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, kind))
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


async def answer_prompt(pilot: Pilot[Any], text: str) -> None:
    """Replace the text of the TextPromptScreen that opens with `text`, and press Enter."""
    await until(pilot, lambda: isinstance(pilot.app.screen, TextPromptScreen))
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")


async def confirm(pilot: Pilot[Any], yes: bool) -> str:
    """Answer the ConfirmScreen that opens; returns its question."""
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmScreen)
    await pilot.press("y" if yes else "n")
    return dialog.question


# -- the database ----------------------------------------------------------------------------
async def stored(db_path: Path) -> Store:
    return await Store.open(db_path)


async def with_pipe(db_path: Path, source: str, function_id: str) -> None:
    """Store `source` as the function `function_id` before the app starts."""
    async with await stored(db_path) as store:
        async with PipeHost(store) as host:
            await FunctionLibrary(host).add(source, function_id=function_id)


# -- one screen on its own ---------------------------------------------------------------------
class ScreenHost(App[None]):
    """A bare app that pushes one screen on mount and records every result its callback gets.

    `screen` is the screen itself, or an async function that makes it (for a screen that has
    to read a store first); `dialog` is the screen once pushed."""

    def __init__(self, screen: Screen[Any] | Callable[[], Awaitable[Screen[Any]]]) -> None:
        super().__init__()
        self.make_screen = screen
        self.dialog: Screen[Any] | None = screen if isinstance(screen, Screen) else None
        self.results: list[Any] = []

    async def on_mount(self) -> None:
        if self.dialog is None:
            self.dialog = await self.make_screen()  # type: ignore[operator]
        self.push_screen(self.dialog, self.results.append)


class Layouts:
    """Counts the screen's layouts."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        layout = Screen._refresh_layout

        def counted(screen: Screen[Any], *args: Any, **kwargs: Any) -> None:
            self.count += 1
            layout(screen, *args, **kwargs)

        monkeypatch.setattr(Screen, "_refresh_layout", counted)
