"""The chat screen's attachments (a mixin of `ChatScreen`): the attach dialog (alt+a), a pasted
file path offered as an attachment, the chips of what goes with the next message, and
reading them again as the message is sent.

Pending attachments belong to the chat they were attached in, like the prompt's draft: switch
chats and they are there when you come back. Unlike the draft they are kept for this session
only (not stored): a file is read again when it is sent anyway, so after a restart attaching
it again costs one key and a path.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from tuichat.runtime.attachments import Attachment, AttachmentError, read_attachment
from tuichat.ui.widgets.attachment_chips import AttachmentChips
from tuichat.ui.widgets.prompt import Prompt

if TYPE_CHECKING:
    from tuichat.ui.chat.screen import ChatScreen


def file_items(attachments: list[Attachment]) -> list[dict[str, Any]]:
    """How a sent message lists its attachments (the shape of `MessageRow.files`)."""
    return [{"type": a.kind, "name": a.name, "size": a.size, "content_type": a.content_type} for a in attachments]


def shown_folder(folder: Path, cwd: Path) -> str:
    """`folder` as the path field shows it: relative to `cwd` or `~` where it can be, with its /."""
    home = Path.home()
    if folder == cwd:
        return ""
    if folder.is_relative_to(cwd):
        return f"{folder.relative_to(cwd)}/"
    if folder.is_relative_to(home):
        return f"~/{folder.relative_to(home)}/" if folder != home else "~/"
    return f"{folder}/".replace("//", "/")


class ChatAttachments:
    """Pending attachments of the chat screen, per chat (None: the unsent new chat)."""

    _parked: dict[str | None, list[Attachment]]
    _attach_folder: str = ""  # the dialog starts in the folder of the last file attached

    def action_attach(self: ChatScreen) -> None:
        from tuichat.ui.screens.attach import AttachDialog

        cwd = Path.cwd()

        def attached(attachment: Attachment | None) -> None:
            if attachment is not None:
                self._add_attachments([attachment])
                self._attach_folder = shown_folder(attachment.path.parent, cwd)
            self.query_one(Prompt).focus()

        self.app.push_screen(AttachDialog(cwd, self._attach_folder), attached)

    def _add_attachments(self: ChatScreen, attachments: list[Attachment]) -> None:
        chips = self.query_one(AttachmentChips)
        for attachment in attachments:
            chips.add(attachment)
            if attachment.note:  # e.g. an image whose extension lies: attached, and said
                self.notify(attachment.note, markup=False)

    def on_prompt_paths_pasted(self: ChatScreen, event: Prompt.PathsPasted) -> None:
        """A paste that is only paths of existing files: attach them, or keep the text? Asked,
        never decided silently (No, the default, types the text in)."""
        from tuichat.ui.screens.prompts import ConfirmScreen

        names = ", ".join(path.name for path in event.paths)
        what = "this file" if len(event.paths) == 1 else f"these {len(event.paths)} files"
        question = f"The paste names {what}: {names}. Attach, or keep the paste as text?"

        def answered(attach: bool | None) -> None:
            prompt = self.query_one(Prompt)
            if attach:
                self._attach_pasted(event.paths)
            else:
                prompt.insert(event.text)
            prompt.focus()

        dialog = ConfirmScreen(question, title="Pasted file path", yes="Attach", no="Keep as text", destructive=False)
        self.app.push_screen(dialog, answered)

    @work(group="attach", exit_on_error=False)
    async def _attach_pasted(self: ChatScreen, paths: list[Path]) -> None:
        read: list[Attachment] = []
        for path in paths:
            try:
                read.append(await asyncio.to_thread(read_attachment, path))
            except AttachmentError as error:
                self.notify(f"{error}", title="Not attached", severity="error", timeout=15, markup=False)
        self._add_attachments(read)

    def on_prompt_up(self: ChatScreen) -> None:
        chips = self.query_one(AttachmentChips)
        if chips.attachments:
            chips.focus()
        else:
            self.query_one(Prompt).action_cursor_up()

    def on_attachment_chips_left(self: ChatScreen) -> None:
        self.query_one(Prompt).focus()

    def park_attachments(self: ChatScreen, leaving: str | None, opening: str | None) -> None:
        """The prompt moves from chat `leaving` to `opening`: each keeps its own attachments."""
        chips = self.query_one(AttachmentChips)
        if leaving != opening:
            self._parked[leaving] = chips.take()
            chips.set(self._parked.pop(opening, []))

    async def fresh_attachments(self: ChatScreen, attachments: list[Attachment]) -> list[Attachment] | None:
        """The attachments read again as the message goes (a file edited since is sent as it is
        now); None, said on screen, when one can no longer be read (moved, deleted, grown)."""
        fresh: list[Attachment] = []
        for attachment in attachments:
            try:
                fresh.append(await asyncio.to_thread(read_attachment, attachment.path, attachment.kind))
            except AttachmentError as error:
                self.notify(
                    f"{error}. Your message and its attachments stay: remove that one (↑ from the prompt, "
                    f"then Delete) or attach it again (alt+a), then send.",
                    title="Not sent", severity="error", timeout=20, markup=False,
                )
                return None
        return fresh
