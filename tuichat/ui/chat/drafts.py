"""Prompt drafts: what is typed in the prompt belongs to the chat it was typed in.

The text is that chat's draft (the unsent "New chat" has its own), stored in the database
(`store.drafts`), so it is there again after switching chats or restarting the app. It is
stored DRAFT_DELAY after the first change not yet stored (a timer: never a write per key),
when the prompt switches to another chat, when a message is sent (the draft goes) and when
the screen closes, which quitting the app does before the store is closed. The chat's pending
attachments are kept beside it, for the session only (`tuichat.ui.chat.attachments`).
"""

from __future__ import annotations

import logging

from textual.timer import Timer

from tuichat.store.drafts import DraftRepo
from tuichat.ui.widgets.prompt import Prompt

DRAFT_DELAY = 1.0  # seconds: typing is stored at most this long after it changed

log = logging.getLogger(__name__)


class PromptDrafts:
    """Keeps `prompt`'s text as the draft of the chat shown (`chat_id`, None for a new chat)."""

    def __init__(self, prompt: Prompt, drafts: DraftRepo) -> None:
        self.prompt = prompt
        self.drafts = drafts
        self.chat_id: str | None = None
        self._showing = False  # a chat's draft is in the prompt (none before the first `show`)
        self._stored = ""  # what the database holds as that draft
        self._timer: Timer | None = None

    async def show(self, chat_id: str | None) -> None:
        """Put the draft of `chat_id` in the prompt, once the text there is stored as its own."""
        if self._showing and chat_id == self.chat_id:
            return
        await self.save()
        typed = self.prompt.text
        text = await self.drafts.get(chat_id)
        if self.prompt.text != typed:  # typed while the draft was read: that belongs to the old chat
            await self.save()
        self.chat_id, self._stored, self._showing = chat_id, text, True
        self.prompt.load_text(text)
        self.prompt.move_cursor(self.prompt.document.end)

    async def created(self, chat_id: str) -> None:
        """The first message created the chat: the new chat's draft is now `chat_id`'s."""
        if not self._showing or self.chat_id == chat_id:
            return
        old, self.chat_id, self._stored = self.chat_id, chat_id, ""
        await self.drafts.set(old, "")
        await self.save()

    def forget(self, chat_id: str) -> None:
        """`chat_id` is being deleted, draft and all: nothing more is stored for it."""
        if self.chat_id == chat_id:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self._showing = False

    def changed(self) -> None:
        """The prompt's text changed: store it DRAFT_DELAY from the first change not stored."""
        if self._timer is None and self._showing:
            self._timer = self.prompt.set_timer(DRAFT_DELAY, self._save_later)

    async def _save_later(self) -> None:
        self._timer = None
        try:
            await self.save()
        except Exception:  # noqa: BLE001 - a busy or full database: the next change or switch tries again
            log.exception("the prompt's draft could not be stored")

    async def save(self) -> None:
        """Store the prompt's text as the chat's draft now, if it changed since last stored."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        text = self.prompt.text
        if not self._showing or text == self._stored:
            return
        await self.drafts.set(self.chat_id, text)
        self._stored = text
