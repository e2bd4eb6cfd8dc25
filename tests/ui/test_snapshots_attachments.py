"""Snapshot of attachments at 80x24: a sent message with its chips (a file and an image), the
pipe's answer, and a pending chip above the prompt. Regenerate with
`pytest tests/ui/test_snapshots_attachments.py --snapshot-update` (see test_snapshots.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.helpers import finished, pick, ready, send, until, with_pipe
from tests.ui.test_attachments_ui import REPORTER, attach, chip_line, files  # noqa: F401 - `files` is a fixture
from tests.ui.test_snapshots import _settle
from tuichat.ui.app import TuichatApp

pytestmark = pytest.mark.usefixtures("fixed_clock")  # messages are shown with their time


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.mark.usefixtures("files")  # the files to attach, in the folder the app runs in
def test_sent_and_pending_attachments_80x24(snap_compare: Any, db_path: Path) -> None:
    asyncio.run(with_pipe(db_path, REPORTER, "reporter"))

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await ready(pilot)
        await pick(pilot, "reporter")
        for name in ("notes.md", "cat.png"):
            await attach(pilot, f"docs/{name}")
            await pilot.press("enter")
            await until(pilot, lambda name=name: name in chip_line(pilot.app))
        await send(pilot, screen, "what is in these?")
        await finished(pilot, screen)
        await attach(pilot, "docs/notes-old.txt")
        await pilot.press("enter")
        await until(pilot, lambda: "notes-old.txt" in chip_line(pilot.app))
        await _settle(pilot)

    assert snap_compare(TuichatApp(db_path), terminal_size=(80, 24), run_before=run_before)
