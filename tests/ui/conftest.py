"""Fixtures for the UI tests."""

from __future__ import annotations

import os
import time
import types
from collections.abc import Iterator

import pytest

# Wednesday 3 December 2025, 14:05 UTC: what tests with `fixed_clock` take "now" to be.
FIXED_NOW = 1764770700.0


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    """Chats and messages stored meanwhile are stored at FIXED_NOW (each a microsecond later,
    as the store orders them), the screen takes FIXED_NOW to be now, and local time is UTC:
    the times the chat list and the messages show do not depend on when or where a test runs
    (snapshots). Yields FIXED_NOW."""
    from tuichat.store import chats
    from tuichat.ui.widgets import when

    zone = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    monkeypatch.setattr(chats, "time", types.SimpleNamespace(time=lambda: FIXED_NOW))
    monkeypatch.setattr(when, "now", lambda: FIXED_NOW)
    try:
        yield FIXED_NOW
    finally:
        if zone is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = zone
        time.tzset()
