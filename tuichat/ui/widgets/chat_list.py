"""The side bar of stored chats, by day: Today, Yesterday, then each date, newest first; each
chat with the time it was last used and its model. Chats `tuichat run` made are listed apart,
under the user's own, so a script that runs a hundred times never buries them.

Keys: Up/Down move, Enter opens the chat, Esc goes back to the prompt (F2 brings focus here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from tuichat.runtime.untrusted import neutralise
from tuichat.store import ChatRow
from tuichat.ui.widgets import when

RUN_GROUP = "From tuichat run"
TITLE_WIDTH = 24  # the list's width less its border and the option's padding


def _cut(text: str, width: int = TITLE_WIDTH) -> str:
    """One line of at most `width` characters (a wrapped title would push the list down)."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


class ChatList(OptionList):
    # The open chat is bold, not only coloured, and with NO_COLOR the cursor of the focused list
    # is underlined too (Textual drops `reverse` from option styles): both stay visible in 16
    # colours and in monochrome.
    DEFAULT_CSS = """
    ChatList {
        width: 28;
        height: 1fr;
        border: tall $border-blurred;
        border-title-color: $text-muted;
        & > .option-list--option-highlighted { text-style: bold; }
        &:focus > .option-list--option-highlighted { text-style: bold; }
        &:nocolor:focus > .option-list--option-highlighted { text-style: bold underline; }
        /* Day headings are disabled options: the cursor skips them. */
        & > .option-list--option-disabled { color: $text-secondary; text-style: bold; }
    }
    ChatList:focus {
        border: tall $border;
        border-title-color: $text;
        border-title-style: bold;
    }
    """

    BINDINGS = [Binding("escape", "leave", "Prompt", id="chats.leave")]

    class Opened(Message):
        def __init__(self, chat_id: str) -> None:
            super().__init__()
            self.chat_id = chat_id

    class Left(Message):
        """Esc: the user is done with the list (focus goes back to the prompt)."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self.model_names: Callable[[str | None], str] = lambda model_id: model_id or ""
        self._rows: dict[str, tuple[ChatRow, bool]] = {}  # chat id -> (chat, listed apart)
        self._current: str | None = None
        self._tags: dict[str, list[str]] = {}
        self._titles: dict[str, str] = {}

    def on_mount(self) -> None:
        self.border_title = "Chats"

    def show_chats(
        self,
        chats: list[ChatRow],
        current: str | None,
        titles: Mapping[str, str] | None = None,
        tags: Mapping[str, list[str]] | None = None,
    ) -> None:
        """List `chats` (newest first) by day, `tuichat run`'s apart at the end; `titles` are
        shown instead of the stored ones (a pipe's `chat:title`). A pipe may have written any
        title or model name: their control characters are shown (`untrusted`)."""
        # A list the person is moving through keeps their place (a reply's title or tags may
        # refresh it meanwhile); otherwise it shows the current chat.
        browsing = self.highlighted_option.id if self.has_focus and self.highlighted_option is not None else None
        self._titles = titles = dict(titles or {})
        self._tags = dict(tags or {})  # each chat's tags (a background task makes them)
        self._current = current
        options: list[Option] = []
        heading = None
        own = [chat for chat in chats if chat.origin != "run"]
        runs = [chat for chat in chats if chat.origin == "run"]
        self._rows = {}
        for chat in own:
            label = when.day_label(chat.updated_at)
            if label != heading:
                heading = label
                options.append(Option(label, disabled=True))
            options.append(self._option(chat, titles.get(chat.id), apart=False))
        if runs:
            options.append(Option(f"{RUN_GROUP} ({len(runs)})", disabled=True))
            options.extend(self._option(chat, titles.get(chat.id), apart=True) for chat in runs)
        self.clear_options()
        self.add_options(options)
        if browsing is not None and browsing in self._rows:
            self.highlighted = self.get_option_index(browsing)
        elif current is not None:
            self.select(current)

    def _option(self, chat: ChatRow, title: str | None, *, apart: bool) -> Option:
        self._rows[chat.id] = (chat, apart)
        return Option(self._prompt(chat, title, apart=apart), id=chat.id)

    def _prompt(self, chat: ChatRow, title: str | None, *, apart: bool) -> Content:
        """Two lines: the title (bold for the open chat), then when and which model, dimmed.
        Under a day heading the time is enough; apart, the date is needed too."""
        shown = _cut(neutralise(title or chat.title or "New chat"))
        used = when.stamp(chat.updated_at) if apart else when.clock(chat.updated_at)
        model = neutralise(self.model_names(chat.model_id))
        tagged = " ".join(f"#{neutralise(tag)}" for tag in self._tags.get(chat.id, []))
        detail = _cut(" · ".join(part for part in (used, model, tagged) if part))
        style = "bold" if chat.id == self._current else ""
        return Content.assemble((shown, style), "\n", (detail, "dim"))

    def set_title(self, chat_id: str, title: str) -> None:
        """Show `title` for one chat, in place (the list is not reloaded)."""
        self._titles[chat_id] = title
        self._redraw(chat_id)

    def _redraw(self, chat_id: str | None) -> None:
        row = self._rows.get(chat_id) if chat_id else None
        if row is None or chat_id is None:  # an unsaved chat is not listed yet
            return
        try:
            self.replace_option_prompt(chat_id, self._prompt(row[0], self._titles.get(chat_id), apart=row[1]))
        except OptionDoesNotExist:
            pass

    def select(self, chat_id: str | None) -> None:
        """Mark `chat_id` as the open chat (bold) and put the cursor on it (None: a new chat)."""
        old, self._current = self._current, chat_id
        if old != chat_id:
            self._redraw(old)
            self._redraw(chat_id)
        try:
            self.highlighted = self.get_option_index(chat_id) if chat_id else None
        except OptionDoesNotExist:  # an unsaved chat is not listed yet
            self.highlighted = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave":
            return not getattr(self.screen, "streaming", False)  # then Esc stops the reply
        return True

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.Opened(event.option.id))
