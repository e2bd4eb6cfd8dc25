"""The attach dialog: a path field with shell-like Tab completion; Enter attaches the file.

The file is read and checked (`read_attachment`: size, text or image) before the dialog
closes; what is wrong is said under the field and nothing is attached, so the path can be
corrected in place. The dialog answers the `Attachment`, or None when cancelled.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from tuichat.runtime.attachments import Attachment, AttachmentError, read_attachment
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.path_completion import Completion, complete
from tuichat.ui.screens.prompts import DialogScreen, stylesheet


class PathInput(Input):
    """A one-line path field where Tab completes (instead of moving the focus)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete the path (the attach dialog)", id="attach.complete", show=False),
    ]

    class Completed(Message):
        """Tab was pressed: `completion` is what it found."""

        def __init__(self, completion: Completion) -> None:
            super().__init__()
            self.completion = completion

    def __init__(self, cwd: Path | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.cwd = cwd

    def action_complete(self) -> None:
        completion = complete(self.value, self.cwd)
        self.value = completion.text
        self.cursor_position = len(self.value)
        self.post_message(self.Completed(completion))


class AttachDialog(DialogScreen[Attachment | None]):
    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]
    AUTO_FOCUS = "#path"

    def __init__(self, cwd: Path | None = None, path: str = "") -> None:
        super().__init__()
        self.cwd = cwd
        self.initial = path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Attach a file or image"
            yield PathInput(self.cwd, value=self.initial, placeholder="path, e.g. ~/notes.md", id="path",
                            select_on_focus=False)
            yield Static("", id="problem", markup=False)
            yield Static("", id="matches", markup=False)
            yield self.keys_hint(("Tab", "complete"), ("Enter", "attach"), ("Esc", "cancel"))

    @on(PathInput.Completed)
    def _completed(self, event: PathInput.Completed) -> None:
        completion = event.completion
        self._problem("")
        listing = "  ".join(neutralise(name) for name in completion.candidates)
        if completion.more:
            listing += f"  … {completion.more} more: type more of the name"
        self._matches(listing)

    @on(Input.Submitted, "#path")
    async def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._matches("")  # the last Tab's list is stale now
        typed = event.value.strip()
        if not typed:
            self._problem("Type the path of a file or image (Tab completes), or press Esc.")
            return
        path = Path(typed).expanduser()
        if not path.is_absolute():
            path = (self.cwd or Path.cwd()) / path
        try:  # a large file takes a moment to read: the screen stays live meanwhile
            attachment = await asyncio.to_thread(read_attachment, path)
        except AttachmentError as error:
            self._problem(str(error))
            return
        self.dismiss(attachment)

    def _problem(self, text: str) -> None:
        problem = self.query_one("#problem", Static)
        problem.update(neutralise(text))
        problem.set_class(bool(text), "-shown")
        self.query_one("#path", Input).set_class(bool(text), "-invalid")

    def _matches(self, text: str) -> None:
        matches = self.query_one("#matches", Static)
        matches.update(text)
        matches.set_class(bool(text), "-shown")

    def action_cancel(self) -> None:
        self.dismiss(None)
