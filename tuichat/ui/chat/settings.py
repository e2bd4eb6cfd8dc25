"""A chat's toggles (F10) and params (F12), and how the header shows them (a mixin of
`ChatScreen`). Both are stored in the chat's row (`filter_ids`, `params`); before the first
message they wait in `NewChatSettings` and are stored when the chat is. Each turn gets them
(`Turn(filter_ids=..., params=...)`, see `replies`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuichat.runtime.chat_params import summary
from tuichat.runtime.untrusted import neutralise

if TYPE_CHECKING:
    from tuichat.ui.chat.screen import ChatScreen

TOGGLE_MARK = "⚑"
HEADER_ROOM = 18  # cells the header keeps for its icon, its right margin and the " — " between titles


class ChatSettings:
    """Toggles and params of the open chat (or of the chat the next message creates)."""

    def chat_filter_ids(self: ChatScreen) -> list[str]:
        return list(self.chat.filter_ids) if self.chat is not None else list(self.new_chat_settings.filter_ids)

    def chat_params(self: ChatScreen) -> dict[str, Any]:
        return dict(self.chat.params) if self.chat is not None else dict(self.new_chat_settings.params)

    def settings_text(self: ChatScreen, room: int) -> str:
        """The toggles switched on and the params set, cut to `room` cells (empty if none)."""
        parts = [f"{TOGGLE_MARK}{neutralise(fid)}" for fid in self.chat_filter_ids()]
        params = summary(self.chat_params())
        if params:
            parts.append(params)
        text = " ".join(parts)
        if len(text) > room:
            text = text[: max(room - 1, 0)] + "…" if room > 1 else ""
        return text

    def header_subtitle(self: ChatScreen, model: str, title: str) -> str:
        """The model, then what this chat switched on and set, fitted to the header."""
        room = self.app.size.width - HEADER_ROOM - len(title) - len(model) - 3
        extra = self.settings_text(room)
        return f"{model} · {extra}" if extra else model

    async def store_new_chat_settings(self: ChatScreen) -> None:
        """The first message created the chat: its toggles and params go into its row."""
        settings = self.new_chat_settings
        if self.chat is not None and (settings.filter_ids or settings.params):
            self.chat = await self.store.chats.update(self.chat.id, filter_ids=settings.filter_ids, params=settings.params)

    async def action_toggles(self: ChatScreen) -> None:
        from tuichat.runtime.filter_facts import model_toggles
        from tuichat.ui.screens.toggles import TogglesScreen

        if self.services is None:
            self.notify("Still loading pipes, one moment…")
            return
        if self.model_id is None:
            self.notify("Pick a model first (ctrl+o): toggles are the model's filters.")
            return
        toggles = await model_toggles(self.services.host, self.model_id)

        async def save(ids: list[str] | None) -> None:
            if ids is None or ids == self.chat_filter_ids():
                return
            if self.chat is None:
                self.new_chat_settings.filter_ids = ids
                self._show_title()
            else:
                self.chat = await self.store.chats.update(self.chat.id, filter_ids=ids)
            on = ", ".join(ids) or "none"
            self.notify(f"Toggles on in this chat: {neutralise(on)}.", markup=False)

        screen = TogglesScreen(toggles, self.chat_filter_ids(), model_name=self.model_name(self.model_id))
        self.app.push_screen(screen, save)

    def action_chat_params(self: ChatScreen) -> None:
        from tuichat.ui.screens.chat_params import ChatParamsScreen

        async def save(params: dict[str, Any] | None) -> None:
            if params is None or params == self.chat_params():
                return
            if self.chat is None:
                self.new_chat_settings.params = params
                self._show_title()
            else:
                self.chat = await self.store.chats.update(self.chat.id, params=params)
            self.notify(f"Params for this chat: {summary(params) or 'none (the model’s defaults)'}.", markup=False)

        self.app.push_screen(ChatParamsScreen(self.chat_params()), save)
