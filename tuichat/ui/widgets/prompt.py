"""The multi-line prompt: Enter sends, ctrl+j (a key every terminal delivers) adds a newline.

PageUp/PageDown scroll the conversation while the prompt's text fits in it, so that reading
back needs no change of focus; in a longer prompt they move its cursor, as in any TextArea.

Drafts: what is typed belongs to a chat (`draft_key`: its id, or NEW_CHAT before the first
message creates it) and is stored as that chat's draft (`Drafts`, in the store's settings), so
it is there again after switching chats or restarting. It is stored at most once every
DRAFT_DELAY seconds while typing (a timer, never on a keystroke), when the prompt switches to
another chat's draft, when it is cleared (a message was sent) and when the app closes."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import TextArea
from textual.widgets.text_area import EditResult

NEW_CHAT = "new"  # the draft key of the chat not created yet ("New chat")
DRAFT_DELAY = 1.0  # seconds: typing is stored this long after the first unsaved change
DRAFT_SETTING = "draft:"  # + the draft key: the setting that holds a chat's draft

log = logging.getLogger(__name__)


class Settings(Protocol):
    async def get(self, key: str, default: Any = None) -> Any: ...

    async def set(self, key: str, value: Any) -> None: ...


class Drafts:
    """Prompt drafts, one per chat, in the store's settings (`draft:<chat id>`, `draft:new`);
    an empty draft is stored as null."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def load(self, key: str) -> str:
        text = await self.settings.get(DRAFT_SETTING + key)
        return text if isinstance(text, str) else ""

    async def save(self, key: str, text: str) -> None:
        await self.settings.set(DRAFT_SETTING + key, text or None)


def draft_key(chat_id: str | None) -> str:
    return chat_id or NEW_CHAT


class Prompt(TextArea):
    DEFAULT_CSS = """
    Prompt {
        height: auto;
        min-height: 3;
        max-height: 10;
        border: tall $border-blurred;
    }
    Prompt:focus {
        border: tall $border;
    }
    """

    BINDINGS = [
        Binding("ctrl+j", "newline", "Newline", id="prompt.newline", show=False),
        Binding("pageup", "page(-1)", "Page up", id="prompt.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="prompt.page_down", show=False),
    ]

    class Page(Message):
        """The user asked to page the conversation (-1 up, 1 down)."""

        def __init__(self, direction: int) -> None:
            super().__init__()
            self.direction = direction

    class Submitted(Message):
        """The user sent the text in the prompt."""

        def __init__(self, prompt: Prompt, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.placeholder = "Message · Enter sends · ctrl+j newline"
        self.drafts: Drafts | None = None  # where drafts are kept; none, none kept
        self.draft_key: str | None = None  # whose draft the text is
        self._draft_stored = ""  # what the store holds as that draft
        self._draft_timer: Timer | None = None

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text
            if text.strip():
                self.post_message(self.Submitted(self, text))
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")

    def action_page(self, direction: int) -> None:
        if self.wrapped_document.height > self.scrollable_content_region.height:
            (self.action_cursor_page_up if direction < 0 else self.action_cursor_page_down)()
        else:
            self.post_message(self.Page(direction))

    # -- drafts ---------------------------------------------------------------------------------
    async def show_draft(self, key: str) -> None:
        """Switch to the draft of `key` (a chat id, or NEW_CHAT): the text typed so far is stored
        as its own chat's draft first."""
        if key == self.draft_key or self.drafts is None:
            return
        await self.save_draft()
        typed = self.text
        text = await self.drafts.load(key)
        if self.text != typed:  # typed while the draft was read: keep that too
            await self.save_draft()
        self.draft_key, self._draft_stored = key, text
        self.load_text(text)
        self.move_cursor(self.document.end)

    def move_draft(self, key: str) -> None:
        """The text now belongs to `key` (the first message created the chat): the old key's
        draft is dropped, and the text is stored under the new one."""
        old = self.draft_key
        if old is None or old == key or self.drafts is None:
            return
        self.draft_key, self._draft_stored = key, ""
        self.run_worker(self.drafts.save(old, ""), group="drafts", exit_on_error=False)
        self._draft_changed()

    async def save_draft(self) -> None:
        """Store the text as its chat's draft, now, if it changed since it was last stored."""
        if self._draft_timer is not None:
            self._draft_timer.stop()
            self._draft_timer = None
        if self.drafts is None or self.draft_key is None:
            return
        text = self.text
        if text == self._draft_stored:
            return
        self._draft_stored = text
        await self.drafts.save(self.draft_key, text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is self:
            self._draft_changed()

    def _draft_changed(self) -> None:
        """Typing: the draft is stored DRAFT_DELAY after the first change not yet stored."""
        if self._draft_timer is None and self.drafts is not None and self.draft_key is not None:
            self._draft_timer = self.set_timer(DRAFT_DELAY, self._save_draft_later)

    async def _save_draft_later(self) -> None:
        self._draft_timer = None
        await self.save_draft()

    def clear(self) -> EditResult:
        """Empty the prompt (its message was sent): its chat's draft goes at once."""
        result = super().clear()
        self.call_later(self.save_draft)
        return result

    async def on_unmount(self) -> None:
        """The app is closing (or the screen): keep what was typed since the last store."""
        try:
            await self.save_draft()
        except Exception:  # noqa: BLE001 - a store already closed must not break closing
            log.exception("the prompt's draft could not be stored")
