"""A chat's toggles and tools (F10) and params (F12), and how the header shows them (a mixin
of `ChatScreen`). All are stored in the chat's row (`filter_ids`, `tool_ids`, `params`);
before the first message they wait in `NewChatSettings` and are stored when the chat is. Each
turn gets them (`Turn(filter_ids=..., tool_ids=..., params=...)`, see `replies`; the model's
own tools are added on the chat path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuichat.runtime.chat_params import summary
from tuichat.runtime.untrusted import neutralise

if TYPE_CHECKING:
    from tuichat.ui.chat.screen import ChatScreen

TOGGLE_MARK = "⚑"
TOOL_MARK = "⚒"
HEADER_ROOM = 18  # cells the header keeps for its icon, its right margin and the " — " between titles


class ChatSettings:
    """Toggles and params of the open chat (or of the chat the next message creates)."""

    def chat_filter_ids(self: ChatScreen) -> list[str]:
        return list(self.chat.filter_ids) if self.chat is not None else list(self.new_chat_settings.filter_ids)

    def chat_tool_ids(self: ChatScreen) -> list[str]:
        return list(self.chat.tool_ids) if self.chat is not None else list(self.new_chat_settings.tool_ids)

    def chat_params(self: ChatScreen) -> dict[str, Any]:
        return dict(self.chat.params) if self.chat is not None else dict(self.new_chat_settings.params)

    def settings_text(self: ChatScreen, room: int) -> str:
        """The toggles switched on, the tools selected and the params set, cut to `room` cells
        (empty if none)."""
        parts = [f"{TOGGLE_MARK}{neutralise(fid)}" for fid in self.chat_filter_ids()]
        parts += [f"{TOOL_MARK}{neutralise(tid)}" for tid in self.chat_tool_ids()]
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
        """The first message created the chat: its toggles, tools and params go into its row."""
        settings = self.new_chat_settings
        if self.chat is not None and (settings.filter_ids or settings.tool_ids or settings.params):
            self.chat = await self.store.chats.update(
                self.chat.id, filter_ids=settings.filter_ids, tool_ids=settings.tool_ids, params=settings.params
            )

    async def action_toggles(self: ChatScreen) -> None:
        from tuichat.runtime.chat_tools import tool_choices
        from tuichat.runtime.filter_facts import model_toggles
        from tuichat.ui.screens.toggles import ChatChoices, TogglesScreen

        if self.services is None:
            self.notify("Still loading pipes, one moment…")
            return
        if self.model_id is None:
            self.notify("Pick a model first (ctrl+o): toggles are the model's filters.")
            return
        toggles = await model_toggles(self.services.host, self.model_id)
        tools = await tool_choices(self.store, self.model_id, self.chat_tool_ids())

        async def save(choices: ChatChoices | None) -> None:
            if choices is None or (choices.filter_ids, choices.tool_ids) == (self.chat_filter_ids(), self.chat_tool_ids()):
                return
            if self.chat is None:
                self.new_chat_settings.filter_ids, self.new_chat_settings.tool_ids = choices.filter_ids, choices.tool_ids
                self._show_title()
            else:
                self.chat = await self.store.chats.update(self.chat.id, filter_ids=choices.filter_ids, tool_ids=choices.tool_ids)
            on, tools_on = ", ".join(choices.filter_ids) or "none", ", ".join(choices.tool_ids) or "none"
            self.notify(f"In this chat: toggles {neutralise(on)}; tools {neutralise(tools_on)}.", markup=False)

        screen = TogglesScreen(
            toggles, self.chat_filter_ids(), tools=tools, tool_ids=self.chat_tool_ids(), model_name=self.model_name(self.model_id)
        )
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
