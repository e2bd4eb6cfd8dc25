"""Attachments in the TUI, as a user meets them: alt+a and a path field where Tab completes,
a bad path said at the field, chips above the prompt removed by keyboard, a pasted file path
offered (never taken silently), pending attachments kept per chat; and the pure parts
(completion, reading a paste as paths) on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from tests.images import png
from tests.ui.helpers import chat_app, finished, pick, screen_lines, send, stored, until, with_pipe
from tuichat.ui.chat.attachments import shown_folder
from tuichat.ui.chat.screen import ChatScreen
from tuichat.ui.pasted_paths import pasted_files
from tuichat.ui.path_completion import complete
from tuichat.ui.screens.attach import AttachDialog
from tuichat.ui.screens.prompts import ConfirmScreen
from tuichat.ui.widgets.attachment_chips import AttachmentChips
from tuichat.ui.widgets.conversation import Conversation
from tuichat.ui.widgets.prompt import Prompt

SIZE = (80, 24)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a few files to attach; the app runs in it."""
    folder = tmp_path / "work"
    (folder / "docs" / "my folder").mkdir(parents=True)
    (folder / "docs" / "notes.md").write_text("# Notes\nbuy milk\n", encoding="utf-8")
    (folder / "docs" / "notes-old.txt").write_text("old\n", encoding="utf-8")
    (folder / "docs" / "my folder" / "a b.txt").write_text("spaced\n", encoding="utf-8")
    (folder / "docs" / ".hidden").write_text("h\n", encoding="utf-8")
    (folder / "docs" / "cat.png").write_bytes(png(4, 4))
    (folder / "docs" / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    monkeypatch.chdir(folder)
    return folder


def chip_line(app: Any) -> str:
    """The line of the screen showing the pending chips ('' when none show)."""
    return next((line for line in screen_lines(app) if "to remove" in line or "del remove" in line), "")


async def attach(pilot: Pilot[Any], typed: str, *, tabs: int = 0) -> AttachDialog:
    """alt+a, type `typed`, press Tab `tabs` times; returns the dialog (not yet submitted)."""
    await pilot.press("alt+a")
    await until(pilot, lambda: isinstance(pilot.app.screen, AttachDialog))
    dialog = pilot.app.screen
    assert isinstance(dialog, AttachDialog)
    await pilot.press("ctrl+u")  # it starts in the last file's folder
    await pilot.press(*typed)
    for _ in range(tabs):
        await pilot.press("tab")
    await pilot.pause()
    return dialog


# -- completion and pastes, on their own --------------------------------------------------------
def test_tab_completes_like_a_shell(files: Path) -> None:
    assert complete("do").text == "docs/"  # one match, a folder: its slash
    several = complete("docs/no")
    assert several.text == "docs/notes" and several.candidates == ["notes-old.txt", "notes.md"]
    assert complete("docs/my").text == "docs/my folder/"
    assert complete("docs/my folder/").text == "docs/my folder/a b.txt"
    assert ".hidden" not in complete("docs/").candidates and complete("docs/.h").text == "docs/.hidden"
    assert complete("docs/zzz").text == "docs/zzz"  # nothing matches: unchanged
    assert complete("nowhere/x").text == "nowhere/x"


def test_tab_expands_the_home_folder_but_keeps_the_tilde(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(files))
    assert complete("~").text == "~/"
    assert complete("~/docs/cat").text == "~/docs/cat.png"


def test_the_dialog_starts_in_the_last_folder_as_typed(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(files.parent))
    assert shown_folder(files / "docs" / "my folder", files) == "docs/my folder/"
    assert shown_folder(files, files) == ""
    assert shown_folder(files.parent / "elsewhere", files) == "~/elsewhere/"
    assert shown_folder(Path("/"), files) == "/"


def test_a_paste_is_paths_only_when_every_word_is_an_existing_file(files: Path) -> None:
    notes, spaced = files / "docs" / "notes.md", files / "docs" / "my folder" / "a b.txt"
    assert pasted_files(f"{notes}") == [notes]
    assert pasted_files(f"'{spaced}'") == [spaced]  # quoted
    assert pasted_files(str(spaced).replace(" ", "\\ ")) == [spaced]  # escaped spaces
    assert pasted_files(f"file://{str(spaced).replace(' ', '%20')}") == [spaced]
    assert pasted_files(f"{notes} '{spaced}'\n") == [notes, spaced]  # several, dragged in together
    assert pasted_files("./docs/notes.md") == [files / "docs" / "notes.md"]
    assert pasted_files(f"see {notes}") == []  # a sentence naming a file is text
    assert pasted_files(f"{files / 'docs'}") == []  # a folder
    assert pasted_files(f"{files / 'docs' / 'gone.md'}") == []
    assert pasted_files("notes.md") == []  # a bare word is text
    assert pasted_files("it's") == []


# -- the dialog ---------------------------------------------------------------------------------
async def test_alt_a_tab_completion_and_enter_attach_a_file_shown_as_a_chip(db_path: Path, files: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        assert chip_line(app) == ""  # no attachments: no row
        dialog = await attach(pilot, "docs/no", tabs=1)
        lines = "\n".join(screen_lines(app))
        assert "docs/notes" in lines and "notes-old.txt  notes.md" in lines  # what still matches
        await pilot.press(".", "m", "tab")
        await pilot.pause()
        assert dialog.query_one("#path").value == "docs/notes.md"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen)
        assert "≡ notes.md 17 B" in chip_line(app)
        assert screen.query_one(Prompt).has_focus
        await pilot.press("alt+a")  # again: it starts in the folder of the last file attached
        await until(pilot, lambda: isinstance(app.screen, AttachDialog))
        assert app.screen.query_one("#path").value == "docs/"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        await attach(pilot, "docs/cat", tabs=1)
        await pilot.press("enter")
        await until(pilot, lambda: "cat.png" in chip_line(app))
        assert "≡ notes.md 17 B   ▣ cat.png 73 B" in chip_line(app)  # an image is marked as one


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("docs/gone.md", "gone.md: no such file"),
        ("docs/blob.bin", "binary file"),
        ("docs", "is a folder"),
        ("", "Type the path of a file or image"),
    ],
)
async def test_a_bad_path_is_said_at_the_field_and_nothing_is_attached(
    db_path: Path, files: Path, typed: str, said: str
) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        dialog = await attach(pilot, typed)
        await pilot.press("enter")
        await until(pilot, lambda: said in " ".join(" ".join(screen_lines(app)).split()))
        assert app.screen is dialog  # still open: the path can be corrected in place
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        assert screen.query_one(AttachmentChips).attachments == [] and chip_line(app) == ""


# -- the chips ----------------------------------------------------------------------------------
async def test_up_reaches_the_chips_where_delete_removes_one_and_esc_goes_back(db_path: Path, files: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        for name in ("notes.md", "cat.png"):
            await attach(pilot, f"docs/{name}")
            await pilot.press("enter")
            await until(pilot, lambda name=name: name in chip_line(app))
        chips = screen.query_one(AttachmentChips)
        await pilot.press("up")  # the prompt is empty: its first line
        await until(pilot, lambda: chips.has_focus)
        assert "←→ pick · del remove · esc back" in chip_line(app)
        await pilot.press("delete")  # the first chip
        await until(pilot, lambda: "notes.md" not in chip_line(app))
        assert "cat.png" in chip_line(app)
        await pilot.press("escape")
        await until(pilot, lambda: screen.query_one(Prompt).has_focus)
        await pilot.press("up", "backspace")  # the last one: the row goes, the prompt has the focus
        await until(pilot, lambda: chip_line(app) == "" and screen.query_one(Prompt).has_focus)


async def test_up_in_a_prompt_without_chips_moves_its_cursor(db_path: Path, files: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        prompt = screen.query_one(Prompt)
        await pilot.press("a", "ctrl+j", "b", "up")
        await until(pilot, lambda: prompt.cursor_location[0] == 0)
        await pilot.press("up")
        assert prompt.has_focus


async def test_pending_attachments_stay_with_their_chat(db_path: Path, files: Path) -> None:
    async with await stored(db_path) as store:
        other = await store.chats.create("Other chat", model_id="echo")
        await store.chats.add_message(other.id, "user", "hi")
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await attach(pilot, "docs/notes.md")
        await pilot.press("enter")
        await until(pilot, lambda: "notes.md" in chip_line(app))
        await screen.open_chat(other.id)
        await until(pilot, lambda: chip_line(app) == "")
        await screen.open_chat(None)  # back to the new chat: its attachment is there
        await until(pilot, lambda: "notes.md" in chip_line(app))


# -- a pasted path ------------------------------------------------------------------------------
async def paste(pilot: Pilot[Any], screen: ChatScreen, text: str) -> ConfirmScreen:
    pilot.app.post_message(events.Paste(text))  # as the driver does: the app forwards it
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmScreen)
    return dialog


async def test_a_pasted_file_path_is_offered_attach_or_keep_as_text(db_path: Path, files: Path) -> None:
    spaced = files / "docs" / "my folder" / "a b.txt"
    dragged = f"'{spaced}' {files / 'docs' / 'cat.png'}"
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        prompt = screen.query_one(Prompt)
        dialog = await paste(pilot, screen, dragged)
        assert "these 2 files: a b.txt, cat.png" in dialog.question
        assert prompt.text == ""  # nothing typed while asked
        await pilot.press("y")
        await until(pilot, lambda: "cat.png" in chip_line(app))
        assert "≡ a b.txt 7 B   ▣ cat.png" in chip_line(app) and prompt.text == ""
        await paste(pilot, screen, str(files / "docs" / "notes.md"))
        await pilot.press("enter")  # No, the default: the paste is kept as text
        await until(pilot, lambda: app.screen is screen)
        assert prompt.text == str(files / "docs" / "notes.md") and "notes.md" not in chip_line(app)


async def test_a_paste_that_is_not_only_file_paths_is_typed_in(db_path: Path, files: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        prompt = screen.query_one(Prompt)
        text = f"look at {files / 'docs' / 'notes.md'}"
        app.post_message(events.Paste(text))
        await until(pilot, lambda: prompt.text == text)
        assert app.screen is screen


# -- sending ------------------------------------------------------------------------------------
async def test_a_file_gone_before_sending_stops_the_send_and_keeps_message_and_chips(db_path: Path, files: Path) -> None:
    async with chat_app(db_path, SIZE) as (app, pilot, screen):
        await pick(pilot, "echo")
        await attach(pilot, "docs/notes.md")
        await pilot.press("enter")
        await until(pilot, lambda: "notes.md" in chip_line(app))
        (files / "docs" / "notes.md").unlink()
        await pilot.press(*"read this", "enter")
        await until(pilot, lambda: any(n.title == "Not sent" for n in app._notifications))
        [note] = [n for n in app._notifications if n.title == "Not sent"]
        assert "notes.md: no such file" in note.message and "remove that one" in note.message
        assert screen.query_one(Prompt).text == "read this" and "notes.md" in chip_line(app)
        assert screen.chat is None and not screen.query_one(Conversation).replies()  # nothing sent


REPORTER = '''"""
title: Reporter
"""


class Pipe:
    def pipe(self, body: dict, __files__: list | None = None) -> str:
        user = [m for m in body["messages"] if m["role"] == "user"][-1]
        content = user["content"]
        parts = [part.get("type") for part in content] if isinstance(content, list) else ["text"]
        names = sorted(str(item.get("name")) for item in __files__ or [])
        text = "yes" if "buy milk" in str(body["messages"]) else "no"
        return f"parts: {' '.join(parts)}; files: {' '.join(names) or 'none'}; file text: {text}"
'''


async def test_sending_passes_the_attachments_to_the_pipe_and_the_message_shows_them(db_path: Path, files: Path) -> None:
    await with_pipe(db_path, REPORTER, "reporter")
    async with chat_app(db_path, (100, 30)) as (app, pilot, screen):
        await pick(pilot, "reporter")
        for name in ("notes.md", "cat.png"):
            await attach(pilot, f"docs/{name}")
            await pilot.press("enter")
            await until(pilot, lambda name=name: name in chip_line(app))
        await send(pilot, screen, "what is in these?")
        await finished(pilot, screen)
        shown = "\n".join(screen_lines(app))
        assert "image_url; files: notes.md; file text: yes" in shown  # what the pipe got
        assert chip_line(app) == "" and screen.query_one(AttachmentChips).attachments == []  # sent: gone
        assert "what is in these?" in shown and "≡ notes.md 17 B   ▣ cat.png 73 B" in shown
        [user] = [m for m in await screen.store.chats.messages(screen.chat.id) if m.role == "user"]
        assert [(f["type"], f["name"]) for f in user.files] == [("file", "notes.md"), ("image", "cat.png")]
        chat_id = screen.chat.id
    async with chat_app(db_path, (100, 30)) as (app, pilot, screen):  # the next start reopens it
        await until(pilot, lambda: screen.chat is not None and screen.chat.id == chat_id)
        await until(pilot, lambda: "≡ notes.md 17 B   ▣ cat.png 73 B" in "\n".join(screen_lines(app)))
