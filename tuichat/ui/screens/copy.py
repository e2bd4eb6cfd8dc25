"""F5: copy the selected message, or one of its code blocks, to the clipboard, or write it
to a file. Says whether a copy can reach the clipboard (see ui/clipboard)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tuichat.runtime.code_blocks import code_blocks
from tuichat.runtime.reply.media import human_size, load, reply_media, suffix_for
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.clipboard import ClipboardPath, path_for, tmux_set_clipboard
from tuichat.ui.screens.prompts import DialogScreen, stylesheet

PREVIEW = 48  # characters of a code block's first line shown in its row


@dataclass(frozen=True)
class Copyable:
    label: str
    text: str
    suffix: str  # a file name's ending when written to a file: ".md", ".py", …
    data: bytes | None = None  # an image or file of the reply: only written to a file
    name: str = ""  # the start of the file name offered when it is written


@dataclass(frozen=True)
class CopyChoice:
    """What the dialog answers: the text, and whether to copy it or write it to a file."""

    item: Copyable
    to_file: bool
    path: ClipboardPath | None


SUFFIXES = {"python": ".py", "py": ".py", "bash": ".sh", "sh": ".sh", "shell": ".sh", "json": ".json",
            "javascript": ".js", "js": ".js", "typescript": ".ts", "html": ".html", "css": ".css",
            "yaml": ".yaml", "toml": ".toml", "sql": ".sql", "rust": ".rs", "go": ".go"}  # fmt: skip


def copyables(text: str, who: str) -> list[Copyable]:
    """The whole message, then each code block on its own."""
    lines = text.count("\n") + 1
    found = [Copyable(f"The whole {who} ({lines} line{'s' if lines != 1 else ''})", text, ".md")]
    for n, block in enumerate(code_blocks(text), 1):
        first = next((line.strip() for line in block.text.splitlines() if line.strip()), "")
        first = first if len(first) <= PREVIEW else first[: PREVIEW - 1] + "…"
        language = f" · {block.language}" if block.language else ""
        label = f"Code block {n}{language} · {block.lines} line{'s' if block.lines != 1 else ''}: {first}"
        found.append(Copyable(label, block.text, SUFFIXES.get(block.language.lower(), ".txt")))
    return found


def media_copyables(content: str, files: list[Any]) -> list[Copyable]:
    """A reply's images and files that have bytes here (data URLs, local files), to save."""
    found = []
    for n, media in enumerate(reply_media(content, files), 1):
        loaded = load(media.url)
        if loaded.data is None:
            continue
        kind = "Image" if media.image else "File"
        name = media.name or loaded.where
        label = f"{kind} {n}: {name} · {loaded.mime or 'unknown type'} · {human_size(len(loaded.data))} (Enter saves it)"
        # Its own name when it has one that is a file name (safe characters only), else one for its kind.
        stem = re.sub(r"[^\w.-]", "", Path(media.name).stem) if Path(media.name).suffix else ""
        found.append(Copyable(label, "", suffix_for(loaded.mime, media.name), loaded.data, stem or f"tuichat-{kind.lower()}"))
    return found


class CopyScreen(DialogScreen[CopyChoice | None]):
    CSS_PATH = stylesheet(__file__)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("enter", "choose(False)", "Copy", id="copy.clipboard"),
        Binding("w", "choose(True)", "Write to a file", id="copy.file"),
    ]
    AUTO_FOCUS = "#copy-choices"

    def __init__(self, text: str, who: str, media: list[Copyable] | None = None) -> None:
        super().__init__()
        self.items = copyables(text, who) + list(media or ())
        self.path: ClipboardPath | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Copy"
            yield OptionList(*[Option(neutralise(item.label)) for item in self.items], id="copy-choices")
            yield Static("", id="copy-note", markup=False)
            yield self.keys_hint(("↑↓", "choose"), ("Enter", "copy"), ("w", "write to a file"), ("Esc", "cancel"))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(OptionList).highlighted = 0
        self._check_clipboard()

    @work(exclusive=True, group="clipboard")
    async def _check_clipboard(self) -> None:
        self.path = path_for(await tmux_set_clipboard())
        note = self.query_one("#copy-note", Static)
        note.update(self.path.note)
        note.set_class(not self.path.ok, "-warning")

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose(False)

    def action_choose(self, to_file: bool) -> None:
        index = self.query_one(OptionList).highlighted
        if index is not None:
            item = self.items[index]  # an image or file goes to a file (Enter too)
            self.dismiss(CopyChoice(item, to_file or item.data is not None, self.path))

    def action_cancel(self) -> None:
        self.dismiss(None)
