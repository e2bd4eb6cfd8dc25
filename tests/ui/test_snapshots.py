"""Visual regression tests: SVG snapshots of the main views (pytest-textual-snapshot).

Baselines live in `tests/ui/__snapshots__/test_snapshots/`. After an intended visual change
(a new footer binding, a CSS tweak), look at the failure report, then regenerate with

    pytest tests/ui/test_snapshots.py --snapshot-update

and review the changed SVGs in the diff before committing them.

Everything shown is deterministic: the conversation is written to the database before the app
starts (no live streaming, no spinner), activity times are fixed, cursors do not blink, the
runtime worker has finished (models listed) before the picture is taken, nothing toasts, and
messages are stored and shown at a fixed time (`fixed_clock`).
`snap_compare` runs the app itself (`App.run`), so these tests are plain `def`s.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, TextArea

from tests.ui.helpers import ready, until
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.screens.event_call import ConfirmationDialog, InputDialog
from tuichat.ui.screens.model_picker import ModelPicker
from tuichat.ui.widgets.chat_list import ChatList
from tuichat.ui.widgets.conversation import Conversation

# Messages and the chat list show times: stored and shown at a fixed time (see conftest).
pytestmark = pytest.mark.usefixtures("fixed_clock")

CHAT_TITLE = "What can a reply hold?"
QUESTION = "Show me everything a reply can hold."
REASONING = "The user wants a tour. Show text, a code fence, a status line and two sources."
CONTENT = """A reply is **Markdown**: text, `inline code`, lists and code fences.

```python
class Pipe:
    def pipe(self, body: dict) -> str:
        return "Hello from a pipe"
```

Events add the status line and the sources below."""
STATUSES = [
    {"description": "Searching the docs", "done": False},
    {"description": "Found {{count}} sources", "count": 2, "done": True},
]
SOURCES = [
    {
        "document": ["Pipes are Python functions that act as models in Open WebUI."],
        "metadata": [{"source": "https://docs.openwebui.com/features/plugin/functions/pipe"}],
        "source": {"name": "Open WebUI docs: Pipe functions"},
    },
    {
        "document": ["A status event with done=False shows a progress line."],
        "metadata": [{"source": "events-guide.md", "name": "Events guide"}],
        "source": {"name": "events-guide.md", "id": "events-guide.md"},
    },
]
USAGE = {"prompt_tokens": 14, "completion_tokens": 52, "total_tokens": 66}
# (seconds since the request started, stored record) as the runtime saves them.
EVENTS: list[tuple[float, Any]] = [
    (0.01, {"event": {"type": "status", "data": STATUSES[0]}}),
    (0.12, {"event": {"type": "source", "data": SOURCES[0]}}),
    (0.13, {"event": {"type": "source", "data": SOURCES[1]}}),
    (0.40, {"event": {"type": "notification", "data": {"type": "info", "content": "Two sources found."}}}),
    (0.85, {"event": {"type": "status", "data": STATUSES[1]}}),
]

CONFIRMATION = {"title": "A few questions", "message": "May I ask you **three** quick questions?"}
INPUT = {"title": "Your name", "message": "What should I call you?", "placeholder": "e.g. Alice", "value": "Ada"}


async def _seed(db_path: Path) -> None:
    """An older chat and the chat the snapshots show: a question and a finished, rich reply."""
    async with await Store.open(db_path) as store:
        older = await store.chats.create("An older chat", model_id="echo")
        question = await store.chats.add_message(older.id, "user", "hello")
        await store.chats.add_message(older.id, "assistant", "hello", model_id="echo", parent_id=question.id)
        chat = await store.chats.create(CHAT_TITLE, model_id="events")
        question = await store.chats.add_message(chat.id, "user", QUESTION)
        reply = await store.chats.add_message(
            chat.id, "assistant", "", model_id="events", parent_id=question.id, status="streaming"
        )
        await store.chats.save_reply(
            reply.id,
            content=CONTENT,
            reasoning=REASONING,
            status="done",
            error=None,
            usage=USAGE,
            extra={"statuses": STATUSES, "sources": SOURCES},
            new_events=EVENTS,
        )
        await store.settings.set("last_model", "events")


def seeded(db_path: Path) -> Path:
    asyncio.run(_seed(db_path))
    return db_path


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colour snapshots whatever the environment; the monochrome test sets NO_COLOR itself."""
    monkeypatch.delenv("NO_COLOR", raising=False)


def _still(screen: Screen[Any]) -> None:
    """Stop every cursor on `screen` blinking, so the picture does not depend on timing."""
    for widget in screen.query("Input, TextArea"):
        if isinstance(widget, (Input, TextArea)):
            widget.cursor_blink = False


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    _still(pilot.app.screen)
    await pilot.pause()
    assert not pilot.app._notifications, "a toast would make the snapshot time-dependent"


async def _chat_screen(pilot: Pilot[Any]) -> ChatScreen:
    """The main screen once the runtime has listed the models (the subtitle shows a model name)."""
    screen = await ready(pilot)
    await pilot.app.workers.wait_for_complete()
    return screen


async def open_stored_chat(pilot: Pilot[Any]) -> None:
    """Open the newest chat the way a user does: the chat list, Home, Enter."""
    screen = await _chat_screen(pilot)
    screen.query_one(ChatList).focus()
    await pilot.press("home", "enter")
    await until(pilot, lambda: screen.chat is not None and screen.chat.title == CHAT_TITLE)
    await until(pilot, lambda: len(screen.query_one(Conversation).replies()) == 1)
    await _settle(pilot)


def test_conversation_100x30(snap_compare: Any, db_path: Path) -> None:
    assert snap_compare(TuichatApp(seeded(db_path)), terminal_size=(100, 30), run_before=open_stored_chat)


def test_conversation_80x24(snap_compare: Any, db_path: Path) -> None:
    assert snap_compare(TuichatApp(seeded(db_path)), terminal_size=(80, 24), run_before=open_stored_chat)


def test_conversation_no_color(snap_compare: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_COLOR: Textual's monochrome filter; everything must still be readable and distinct."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = TuichatApp(seeded(db_path))
    assert app.no_color
    assert snap_compare(app, terminal_size=(100, 30), run_before=open_stored_chat)


def test_model_picker_with_the_example_models(snap_compare: Any, db_path: Path) -> None:
    async def open_picker(pilot: Pilot[Any]) -> None:
        await _chat_screen(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker))
        await _settle(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(100, 30), run_before=open_picker)


class DialogHost(App[None]):
    """A bare app that shows one dialog, as the chat screen does for a pipe's `__event_call__`."""

    def __init__(self, dialog: Screen[Any]) -> None:
        super().__init__()
        self.dialog = dialog

    def on_mount(self) -> None:
        self.push_screen(self.dialog)


async def _dialog_ready(pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, (ConfirmationDialog, InputDialog)))
    await _settle(pilot)


def test_confirmation_dialog(snap_compare: Any) -> None:
    app = DialogHost(ConfirmationDialog(CONFIRMATION))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_dialog_ready)


def test_input_dialog(snap_compare: Any) -> None:
    app = DialogHost(InputDialog(INPUT))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_dialog_ready)


async def _seed_versions(db_path: Path) -> None:
    """A chat whose question was edited once and whose latest question was answered twice."""
    async with await Store.open(db_path) as store:
        chat = await store.chats.create("Naming a cat", model_id="echo")
        first = await store.chats.add_message(chat.id, "user", "Name my cat")
        await store.chats.add_message(chat.id, "assistant", "Whiskers.", model_id="echo")
        await store.chats.add_message(chat.id, "user", "Name my black cat", parent_id=first.parent_id)
        asked = (await store.chats.messages(chat.id))[-1]
        await store.chats.add_message(chat.id, "assistant", "Shadow.", model_id="echo", parent_id=asked.id)
        await store.chats.add_message(chat.id, "assistant", "Midnight, or Salem.", model_id="echo", parent_id=asked.id)
        await store.settings.set("last_model", "echo")
        await store.settings.set("last_chat", chat.id)  # reopened on start


def test_a_reply_with_versions_80x24(snap_compare: Any, db_path: Path) -> None:
    """Regenerated and edited: `‹ 2/2 ›` beside the reply and under the question."""
    asyncio.run(_seed_versions(db_path))

    async def open_chat(pilot: Pilot[Any]) -> None:
        screen = await _chat_screen(pilot)
        await until(pilot, lambda: screen.chat is not None and len(screen.query_one(Conversation).replies()) == 1)
        await _settle(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=open_chat)
