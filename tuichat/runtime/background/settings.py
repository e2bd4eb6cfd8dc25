"""Which background tasks run: one setting each, on by default as in Open WebUI 0.12.4
(`ENABLE_TITLE_GENERATION`, `ENABLE_TAGS_GENERATION`, `ENABLE_FOLLOW_UP_GENERATION`)."""

from __future__ import annotations

from typing import Final

from tuichat.store import Store

TITLE: Final = "title_generation"
TAGS: Final = "tags_generation"
FOLLOW_UPS: Final = "follow_up_generation"
# The name a person uses (CLI, palette) for each setting key.
NAMES: Final = {"title": TITLE, "tags": TAGS, "follow-ups": FOLLOW_UPS}


async def enabled(store: Store, task: str) -> bool:
    return bool(await store.settings.get(task, True))


async def set_enabled(store: Store, task: str, on: bool) -> None:
    await store.settings.set(task, on)


async def all_enabled(store: Store) -> dict[str, bool]:
    """Each task's person-facing name and whether it runs."""
    return {name: await enabled(store, key) for name, key in NAMES.items()}
