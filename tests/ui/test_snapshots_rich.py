"""Snapshots of a reply with a tool-call fold (opened by `d`) and a PNG image (half-blocks),
at 80x24, from a stored chat (times fixed by `fixed_clock`). Regenerate with
    pytest tests/ui/test_snapshots_rich.py --snapshot-update
and look at the SVGs (rsvg-convert x.svg -o x.png) before committing them."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.helpers import settled, until
from tests.ui.test_rich_reply import rich_output
from tests.ui.test_snapshots import _chat_screen, _settle
from tuichat.store import Store
from tuichat.ui.app import TuichatApp
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.rich_pieces import DetailsFold

pytestmark = pytest.mark.usefixtures("fixed_clock")

IMAGE = "data:image/png;base64," + base64.b64encode(rich_output.png()).decode()
TOOL_CALL = (
    '<details type="tool_calls" done="true" id="call_1" name="get_weather" '
    'arguments="{&quot;city&quot;: &quot;Paris&quot;}" '
    'result="{&quot;temperature&quot;: 21, &quot;sky&quot;: &quot;sunny&quot;}">\n'
    "<summary>Tool Executed</summary>\n</details>\n"
)


async def _seed(db_path: Path, content: str) -> None:
    async with await Store.open(db_path) as store:
        chat = await store.chats.create("Weather in Paris", model_id="echo")
        question = await store.chats.add_message(chat.id, "user", "What is the weather in Paris?")
        await store.chats.add_message(chat.id, "assistant", content, model_id="echo", parent_id=question.id)
        await store.settings.set("last_model", "echo")
        await store.settings.set("last_chat", chat.id)


async def _open(pilot: Pilot[Any]) -> None:
    screen = await _chat_screen(pilot)
    await until(pilot, lambda: screen.chat is not None and len(screen.query_one(Conversation).replies()) == 1)
    await _settle(pilot)


async def _laid_out(pilot: Pilot[Any]) -> None:
    """Once the conversation's size and scroll have stopped changing (a fold's body or an
    image lays the conversation out again, and a loaded machine takes a while)."""
    conversation = pilot.app.screen.query_one(Conversation)
    await settled(pilot, lambda: (conversation.virtual_size, conversation.scroll_y, conversation.max_scroll_y))
    await _settle(pilot)


def test_a_tool_call_fold_opened_80x24(snap_compare: Any, db_path: Path) -> None:
    asyncio.run(_seed(db_path, f"Let me look that up.\n{TOOL_CALL}It is **21 °C and sunny** in Paris."))

    async def open_fold(pilot: Pilot[Any]) -> None:
        await _open(pilot)
        await pilot.press("tab", "d")  # to the conversation, then the reply's folds
        fold = pilot.app.screen.query_one(DetailsFold)
        await until(pilot, lambda: fold.open and any(child.region.height for child in fold.query(".sections")))
        await _laid_out(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=open_fold)


def test_an_image_in_half_blocks_80x24(snap_compare: Any, db_path: Path) -> None:
    asyncio.run(_seed(db_path, f"Here is the sky:\n\n![Sky over Paris]({IMAGE})\n"))

    async def shown(pilot: Pilot[Any]) -> None:
        await _open(pilot)
        await until(pilot, lambda: any(w.region.height for w in pilot.app.screen.query(".picture")))
        await _laid_out(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=shown)
