"""Small modal prompts: yes/no before deleting things, and a line (or page) of text.

Also home to `DialogScreen`, the base of every tuichat dialog: one look (a bordered box in the
middle of the screen, a key hint line at the bottom: dialog.tcss) and a `dismiss` that is safe to
call from outside the dialog, more than once, or while another screen sits on top of it.

Each dialog's own stylesheet is the `.tcss` file named after its module (`CSS_PATH =
stylesheet(__file__)`).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from tuichat.runtime.untrusted import neutralise
from tuichat.ui.widgets.text_field import MultilineField

ResultT = TypeVar("ResultT")


def stylesheet(module_file: str) -> Path:
    """The `.tcss` file next to a module, named after it, as an absolute path.

    Textual resolves a relative `CSS_PATH` against the file of the instance's class, not of the
    class that declares it: a subclass in another folder would look for the file there.
    """
    return Path(module_file).with_suffix(".tcss")


class DialogScreen(ModalScreen[ResultT]):
    """A centred dialog box whose `dismiss` is safe to call from anywhere, any number of times.

    Textual's `Screen.dismiss` pops whatever screen is on top and calls the result callback
    each time it is called. The app closes dialogs from outside (a stopped reply closes the
    dialog a pipe opened), possibly just after the user answered it, or while a help screen
    is above it. Here only the first `dismiss` counts; a dialog that is not the active screen
    answers at once and leaves the stack as soon as it becomes active again.
    """

    # Default CSS, read from dialog.tcss: it applies to subclasses in any module (CSS_PATH would
    # be looked for next to the subclass, and replaced by a subclass's own), and every rule of a
    # subclass, in its .tcss or DEFAULT_CSS, overrides it (file CSS would outrank them all).
    DEFAULT_CSS = Path(__file__).with_name("dialog.tcss").read_text(encoding="utf-8")

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._dismissed = False
        self._answered = False
        self._result: ResultT | None = None

    @property
    def dismissed(self) -> bool:
        """True once `dismiss` has been called: the dialog has given its answer."""
        return self._dismissed

    def dismiss(self, result: ResultT | None = None) -> AwaitComplete:
        """Close with `result`; later calls do nothing. Safe to call from outside the dialog."""
        if self._dismissed:
            return AwaitComplete.nothing()
        self._dismissed = True
        self._result = result
        if self.is_active:
            self._answered = True
            return super().dismiss(result)
        # Another screen is above this one (or it was never shown): answer now, and leave the
        # stack when this screen next becomes active, without touching the screens above it.
        self._answer()
        return AwaitComplete.nothing()

    def _answer(self) -> None:
        if not self._answered and self._result_callbacks:
            self._answered = True
            self._result_callbacks[-1](self._result)

    def on_mount(self) -> None:
        # NO_COLOR with the terminal's own ANSI colours strips every colour, and Textual's
        # visual styles drop `reverse`: subclasses mark cursors with `.-no-color` text styles.
        self.set_class(self.app.no_color and self.app.native_ansi_color, "-no-color")

    def on_screen_resume(self) -> None:
        if self._dismissed and self.is_active:
            self._answer()
            self.app.pop_screen()

    @staticmethod
    def keys_hint(*pairs: tuple[str, str]) -> Static:
        """The one-line key help at the bottom of a dialog: ("Enter", "confirm"), …"""
        return Static("  ·  ".join(f"{key} {what}" for key, what in pairs), classes="dialog--keys", markup=False)


class ConfirmScreen(DialogScreen[bool]):
    """Ask a yes/no question, e.g. before deleting. No is the default: Enter on open answers No."""

    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", id="dialog.cancel"),
        Binding("left", "app.focus_previous", "Previous", show=False, id="dialog.previous"),
        Binding("right", "app.focus_next", "Next", show=False, id="dialog.next"),
    ]
    AUTO_FOCUS = "#no"

    def __init__(
        self,
        question: str,
        *,
        title: str = "Are you sure?",
        yes: str = "Yes",
        no: str = "No",
        destructive: bool = True,
    ) -> None:
        super().__init__()
        self.question = neutralise(question)  # it may quote a pipe (its name, its error)
        self.title_text = title
        self.yes_label = yes
        self.no_label = no
        self.destructive = destructive

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self.title_text
            yield Label(self.question, classes="confirm--question", markup=False)
            with Horizontal(classes="dialog--buttons"):
                yield Button(self.yes_label, id="yes", variant="error" if self.destructive else "primary")
                yield Button(self.no_label, id="no")
            yield self.keys_hint(("y", self.yes_label.lower()), ("n/Esc", self.no_label.lower()), ("Enter", "focused button"))

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.dismiss(False)


class TextPromptScreen(DialogScreen[str | None]):
    """Ask for a line of text (a chat title) or, with `multiline=True`, a page (a system prompt).

    Enter submits, as in the prompt; in a multi-line field ctrl+j adds a new line (ctrl+s is
    XOFF on many terminals, and shift+enter reaches few). Escape cancels (None). The submit
    button (`submit`: "Save", "Import", …) and Cancel are reachable with Tab.
    """

    CSS_PATH = stylesheet(__file__)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]
    AUTO_FOCUS = "#text"

    def __init__(
        self,
        title: str,
        text: str = "",
        *,
        multiline: bool = False,
        message: str | None = None,
        placeholder: str = "",
        allow_empty: bool = True,
        submit: str = "Save",
    ) -> None:
        super().__init__()
        self.submit_label = submit
        self.title_text = title
        self.initial_text = text
        self.multiline = multiline
        self.message = neutralise(message) if message else message
        self.placeholder = placeholder
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -multiline" if self.multiline else "dialog") as dialog:
            dialog.border_title = self.title_text
            if self.message:
                yield Label(self.message, classes="prompt--message", markup=False)
            if self.multiline:
                area = MultilineField(
                    self.initial_text,
                    id="text",
                    soft_wrap=True,
                    tab_behavior="focus",
                    show_line_numbers=False,
                    placeholder=self.placeholder,
                )
                area.move_cursor(area.document.end)
                yield area
            else:
                yield Input(self.initial_text, placeholder=self.placeholder, id="text", select_on_focus=False)
            with Horizontal(classes="dialog--buttons"):
                yield Button(self.submit_label, id="save", variant="primary")
                yield Button("Cancel", id="cancel")
            submit = ("Enter", self.submit_label.lower())
            if self.multiline:
                yield self.keys_hint(submit, ("ctrl+j", "new line"), ("Tab", "buttons"), ("Esc", "cancel"))
            else:
                yield self.keys_hint(submit, ("Esc", "cancel"))

    @property
    def text(self) -> str:
        """What is in the box now."""
        widget = self.query_one("#text")
        return widget.text if isinstance(widget, TextArea) else widget.value  # type: ignore[attr-defined]

    def action_submit(self) -> None:
        text = self.text
        if not text.strip() and not self.allow_empty:
            self.app.bell()
            self.notify("Please enter some text, or press Escape to cancel.", severity="warning")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#text")
    @on(MultilineField.Submitted, "#text")
    def _submitted(self, event: Input.Submitted | MultilineField.Submitted) -> None:
        event.stop()
        self.action_submit()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.action_submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()
