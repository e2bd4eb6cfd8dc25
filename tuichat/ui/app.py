"""The tuichat Textual app: opens the store and shows the chat screen."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from tuichat.store import Store, StoreError
from tuichat.ui.chat_screen import ChatScreen

KEYMAP_ENV = "TUICHAT_KEYMAP"
KEYMAP_SETTING = "keymap"


def parse_keymap(text: str) -> dict[str, str]:
    """`id=keys,id=keys`, e.g. `model.pick=f1,chat.new=ctrl+t` (keys as Textual names them)."""
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {binding_id.strip(): keys.strip() for binding_id, keys in pairs if binding_id.strip() and keys.strip()}


class TuichatApp(App[int]):
    TITLE = "tuichat"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True)]

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path
        self.store: Store | None = None

    async def on_mount(self) -> None:
        try:
            self.store = await Store.open(self.db_path)
        except StoreError as error:
            self.exit(2, message=f"tuichat: {error}")
            return
        # Every binding has an id, so any key can be remapped: a stored keymap, then the env.
        keymap = dict(await self.store.settings.get(KEYMAP_SETTING, {}) or {})
        keymap.update(parse_keymap(os.environ.get(KEYMAP_ENV, "")))
        if keymap:
            self.set_keymap(keymap)
        await self.push_screen(ChatScreen(self.store))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Every screen action in the command palette (ctrl+p), with its key."""
        yield from super().get_system_commands(screen)
        for binding in screen.BINDINGS:
            if isinstance(binding, Binding) and binding.description:
                action = binding.action

                def run(action: str = action) -> None:
                    self.run_worker(screen.run_action(action))

                yield SystemCommand(binding.description, f"{binding.key}  ({binding.id})", run)

    async def on_unmount(self) -> None:
        if self.store is not None:
            await self.store.close()


def run_app(db_path: Path) -> int:
    app = TuichatApp(db_path)
    code = app.run()
    return code if isinstance(code, int) else 0
