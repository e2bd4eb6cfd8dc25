"""The tuichat Textual app: opens the store and shows the chat screen."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from tuichat.store import Store, StoreError
from tuichat.ui.chat_screen import ChatScreen


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
        await self.push_screen(ChatScreen(self.store))

    async def on_unmount(self) -> None:
        if self.store is not None:
            await self.store.close()


def run_app(db_path: Path) -> int:
    app = TuichatApp(db_path)
    code = app.run()
    return code if isinstance(code, int) else 0
