"""Unsaved changes in the pipe editor: the dialog that asks, and quitting the app safely.

Escape in an editor with unsaved changes asks "save / discard / cancel" for that editor.
Quitting the app (ctrl+q, or Quit in the command palette) asks the same of every open editor
with unsaved changes (`ask_before_quit`, which the app calls once this module is imported, as
it is when the first editor opens): save them all and quit, quit without saving, or stay;
`SavesOnQuit` is the editor's side of "save and quit". Ended from outside (SIGTERM, SIGHUP:
an SSH drop), with no one to ask, the app keeps each editor's unsaved text as a version of its
pipe (`keep_unsaved_edits`, origin "unsaved"), which F4 History loads again; it is not served.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label

from tuichat.ui.screens.prompts import DialogScreen

if TYPE_CHECKING:
    from tuichat.ui.workshop.editor_screen import EditorScreen

log = logging.getLogger(__name__)


class UnsavedChangesScreen(DialogScreen[str]):
    """Answers "save", "discard" or "cancel" (with `quitting`: save and quit, quit, stay)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "answer('save')", "Save", id="unsaved.save"),
        Binding("d", "answer('discard')", "Discard", id="unsaved.discard"),
        Binding("escape,c", "answer('cancel')", "Cancel", id="unsaved.cancel"),
        Binding("left", "app.focus_previous", "Previous", show=False, id="dialog.previous"),
        Binding("right", "app.focus_next", "Next", show=False, id="dialog.next"),
    ]
    AUTO_FOCUS = "#save"

    def __init__(self, function_id: str | list[str], *, quitting: bool = False) -> None:
        super().__init__()
        self.function_ids = [function_id] if isinstance(function_id, str) else list(function_id)
        self.quitting = quitting

    def compose(self) -> ComposeResult:
        names = ", ".join(f"'{fid}'" for fid in self.function_ids)
        some = "has changes that are" if len(self.function_ids) == 1 else "have changes that are"
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Quit with unsaved changes?" if self.quitting else "Unsaved changes"
            yield Label(f"{names} {some} not saved.", markup=False)
            with Horizontal(classes="dialog--buttons"):
                if self.quitting:
                    yield Button("Save and quit", id="save", variant="primary")
                    yield Button("Quit without saving", id="discard", variant="error")
                    yield Button("Stay", id="cancel")
                else:
                    yield Button("Save", id="save", variant="primary")
                    yield Button("Discard", id="discard", variant="error")
                    yield Button("Cancel", id="cancel")
            if self.quitting:
                yield self.keys_hint(("s", "save and quit"), ("d", "quit, losing the changes"), ("Esc", "stay"))
            else:
                yield self.keys_hint(("s", "save and close"), ("d", "discard"), ("Esc", "keep editing"))

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id or "cancel")


def open_editors(app: App[object]) -> list[EditorScreen]:
    """Every pipe editor on the screen stack (the app has one: it uses no modes)."""
    from tuichat.ui.workshop.editor_screen import EditorScreen

    return [screen for screen in app.screen_stack if isinstance(screen, EditorScreen) and not screen.leaving]


def ask_before_quit(app: App[object]) -> bool:
    """True when the app may quit now. Otherwise the user is asked (or told to wait for a save
    that is running) and the app quits, or not, once they have answered."""
    editors = [editor for editor in open_editors(app) if editor.modified or editor.busy]
    if not editors:
        return True
    if any(isinstance(screen, UnsavedChangesScreen) and screen.quitting for screen in app.screen_stack):
        return False  # already asking
    if any(editor.busy for editor in editors):
        app.notify("A save is running in the pipe editor: quit when it is done.", severity="warning", timeout=4)
        return False

    def answered(answer: str | None) -> None:
        if answer == "discard":
            app.exit()
        elif answer == "save":
            for editor in editors:
                editor.save_and_quit()

    app.push_screen(UnsavedChangesScreen([editor.function_id for editor in editors], quitting=True), answered)
    return False


async def keep_unsaved_edits(app: App[object]) -> list[str]:
    """The app is ending with no one to ask: store each editor's unsaved text as a version of
    its pipe (not served; F4 History has it); the ids of those kept."""
    kept: list[str] = []
    for editor in open_editors(app):
        if not editor.modified:
            continue
        try:
            await (await editor.library()).store.functions.add_version(editor.function_id, editor.editor.text, "unsaved")
        except Exception:  # noqa: BLE001 - a database that refuses it (full, locked): the app ends anyway
            log.exception("the unsaved text of %s could not be kept", editor.function_id)
            continue
        kept.append(editor.function_id)
    return kept


def quit_if_saved(app: App[object]) -> None:
    """After an editor saved for quitting: quit once no editor is left with unsaved changes."""
    editors = open_editors(app)
    if not any(editor.modified or editor.busy for editor in editors):
        app.exit()


class SavesOnQuit:
    """The pipe editor's part in quitting (a mixin of EditorScreen): "save and quit" saves, and
    the app quits once no editor is left unsaved; a refused or failed save keeps it open and
    says why, since the user asked for their changes to be kept."""

    _quitting = False  # saving because the user chose "save and quit"

    def save_and_quit(self: EditorScreen) -> None:
        if self.row is None or not self.modified:
            quit_if_saved(self.app)
            return
        self._quitting = True
        self.action_save()

    def quit_after_save(self: EditorScreen, ok: bool) -> None:
        """A save ended: quit if it was for quitting and it stored the text."""
        if not self._quitting:
            return
        if ok and not self.modified:
            self._quitting = False
            quit_if_saved(self.app)  # now that this editor is no longer busy
        else:  # refused, failed or cancelled (pip stopped): the text stays here, unsaved
            self.not_quitting()

    def not_quitting(self: EditorScreen) -> None:
        if self._quitting:
            self._quitting = False
            self.notify(
                f"Not quitting: '{self.function_id}' was not saved. Fix it and save (F2), "
                "or quit again and choose to quit without saving.",
                title="Still open", severity="warning", timeout=10,
            )
