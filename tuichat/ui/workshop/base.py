"""What every workshop screen shares: the typed app and its services, dialogs awaited from a
worker, one way to run a workflow, and one handler for whatever its workers raise.

A workflow (`tuichat.ui.workshop.workflows`) runs in a worker of its screen, one at a time
(`busy` is True meanwhile), and returns a Message that is posted to the screen, which handles
it with `@on`. An exception a worker raises ends up in `on_worker_state_changed`: an error
meant for the user (bad input, a pipe that does not load, a file that cannot be read) is shown
as it is, headed by what was being done; anything else is reported as unexpected. Either way
the app keeps running, and the screen can show it in its own place too (`show_failure`).
"""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from textual import getters
from textual.message import Message
from textual.reactive import var
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.store import StoreError
from tuichat.ui.app import TuichatApp
from tuichat.ui.screens.prompts import ConfirmScreen, TextPromptScreen
from tuichat.ui.workshop.install_dialog import error_text

if TYPE_CHECKING:
    from tuichat.runtime.library import FunctionLibrary

ResultT = TypeVar("ResultT")
T = TypeVar("T")

Flow = Callable[[], Awaitable[Message | None]]  # a workflow, its arguments bound
WORKFLOWS = "workshop-workflow"  # the worker group workflows run in, one at a time per screen
FINISHED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)
# Errors whose message is written for the person using tuichat: shown as they are.
EXPECTED: tuple[type[BaseException], ...] = (RuntimeErrorBase, ValueError, OSError, StoreError)


class Stopped(Exception):
    """The user stopped a workflow part-way (cancelled pip): said as a warning, not an error."""


def failure_text(what: str, error: BaseException) -> str:
    """`what` failed, and why, in words for the user; an unexpected error says it is one."""
    if isinstance(error, EXPECTED):
        return f"{what}: {error_text(error)}"
    return (
        f"{what}: an unexpected error ({type(error).__name__}: {error_text(error)}). "
        "This is a bug in tuichat, not in your pipe; the app keeps running."
    )


class WorkshopScreen(Screen[ResultT]):
    """A screen of the pipe workshop (the pipes list, the editor, the history)."""

    app = getters.app(TuichatApp)
    FAILURE_TITLE = "Pipes"  # the title of the error toast

    busy: var[bool] = var(False, bindings=True)
    """A workflow (its dialogs, the runtime call) is running; another has to wait."""

    async def library(self) -> FunctionLibrary:
        """The function library, once the runtime has started."""
        return (await self.app.runtime()).library

    # -- dialogs, awaited from a worker --------------------------------------------------------
    async def ask(self, dialog: Screen[T]) -> T | None:
        return await self.app.push_screen_wait(dialog)

    async def confirm(self, question: str, *, title: str, yes: str = "Yes", no: str = "No", destructive: bool = False) -> bool:
        return bool(await self.ask(ConfirmScreen(question, title=title, yes=yes, no=no, destructive=destructive)))

    async def prompt(
        self, title: str, text: str = "", *, message: str | None = None, placeholder: str = "", submit: str = "OK"
    ) -> str | None:
        """A line of text; None when cancelled or left blank. `submit` names the button."""
        dialog = TextPromptScreen(title, text, message=message, placeholder=placeholder, allow_empty=False, submit=submit)
        answer = await self.ask(dialog)
        return answer.strip() if isinstance(answer, str) and answer.strip() else None

    # -- running workflows ------------------------------------------------------------------
    def run_workflow(self, what: str, flow: Flow) -> bool:
        """Run `flow` in a worker and post the Message it returns to this screen. `what` heads
        the error if it fails ("Import failed"). One at a time: False (and a bell) when busy."""
        if self.busy:
            self.app.bell()
            self.notify("One moment: still busy with the last action.")
            return False
        self.busy = True
        self.app.keys.expect_screen()  # most workflows start with a dialog: keys typed next go there
        self.run_worker(self._workflow(flow), name=what, description=what, group=WORKFLOWS, exit_on_error=False)
        return True

    async def _workflow(self, flow: Flow) -> None:
        try:
            result = await flow()
        finally:
            self.app.keys.screen_ready()
        if result is not None:
            self.post_message(result)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a workshop worker's exception ends up (they run with exit_on_error=False)."""
        worker = event.worker
        if event.state == WorkerState.ERROR and worker.error is not None:
            self.workflow_failed(worker.description or worker.name or "The last action failed", worker.error)
        if worker.group == WORKFLOWS and event.state in FINISHED:
            self.busy = False
            self.workflow_ended(event.state == WorkerState.SUCCESS)

    def workflow_failed(self, what: str, error: BaseException) -> None:
        if isinstance(error, Stopped):
            self.notify(str(error), severity="warning")
            return
        message = failure_text(what, error)
        if not isinstance(error, EXPECTED):
            self.log.error("".join(traceback.format_exception(error)))
        self.notify(message, title=self.FAILURE_TITLE, severity="error", timeout=12)
        if self.is_attached:
            self.show_failure(message, error)

    # -- what a screen adds ---------------------------------------------------------------------
    def show_failure(self, message: str, error: BaseException) -> None:
        """Show a failed workflow's error on the screen too (after the toast)."""

    def workflow_ended(self, ok: bool) -> None:
        """A workflow's worker has ended (its result, if any, was handled before this)."""
