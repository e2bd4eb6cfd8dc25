"""Watch pip work: a dialog that runs an install job and streams pip's output as it arrives.

`InstallScreen(title, packages, job)` runs `job(on_line)` (an add, enable, import or save that
may call pip through `tuichat.runtime.loading.pip.install`) in a worker as soon as it is
shown. It lists the packages, shows a progress bar (indeterminate until pip says what it is
doing, then one step per stage: collecting, downloading, installing, done), streams every pip
line into a log, and at the end says plainly whether it worked, keeping pip's error on screen
until a key is pressed.

Escape while pip runs cancels the job: the runtime terminates the pip process when its task is
cancelled, and nothing is stored. The worker posts `InstallFinished`; the screen dismisses with
its `InstallOutcome`. `tuichat.ui.workshop.installing.with_installs` is the one caller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widgets import Label, ProgressBar, RichLog, Static
from textual.worker import Worker

from tuichat.runtime.untrusted import neutralise
from tuichat.ui.screens.prompts import DialogScreen

T = TypeVar("T")
LineSink = Callable[[str], None]

# pip's stages, in order: the line prefixes that announce each one, and its name.
STAGES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Collecting", "Processing"), "Collecting"),  # Processing: a local wheel or folder
    (("Downloading", "Using cached"), "Downloading"),
    (("Installing collected packages",), "Installing"),
    (("Successfully installed",), "Installed"),
)
LOG_LINES = 2000  # pip rarely writes more; the runtime keeps its own tail for errors


@dataclass
class InstallOutcome(Generic[T]):
    """How the job ended: its value, the exception it raised, or cancelled by the user; and
    `message`, the last line the dialog showed about it."""

    value: T | None = None
    error: BaseException | None = None
    cancelled: bool = False
    problem: str | None = None  # the job returned, but `describe` said it did not work
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled and self.problem is None


class InstallFinished(Message):
    """The install job ended (posted by the dialog's worker)."""

    def __init__(self, outcome: InstallOutcome[Any]) -> None:
        super().__init__()
        self.outcome = outcome


def pip_stage(line: str) -> int | None:
    """The index in STAGES a pip output line announces, or None for any other line."""
    text = line.strip()
    for index, (prefixes, _) in enumerate(STAGES):
        if text.startswith(prefixes):
            return index
    return None


def error_text(error: BaseException) -> str:
    summary = getattr(error, "summary", None)  # an ImportRefused: its first problems, and how many more
    text = (summary() if callable(summary) else str(error)).strip()
    return text or type(error).__name__


class InstallScreen(DialogScreen[InstallOutcome[T]]):
    """Run `job(on_line)` while showing pip's progress; dismisses with an InstallOutcome.

    `describe(value)` turns the job's return value into `(ok, message)` for the last line (a
    function stored inactive after a failed install is not a success); by default any return
    is a success.
    """

    CSS_PATH = "install_dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_or_close", "Cancel", id="install.cancel"),
        Binding("enter,space,q", "close", "Close", show=False, id="install.close"),
    ]
    AUTO_FOCUS = "RichLog"

    outcome: var[InstallOutcome[Any] | None] = var(None, bindings=True)
    """How the job ended; None while it runs."""

    def __init__(
        self,
        title: str,
        packages: list[str],
        job: Callable[[LineSink], Awaitable[T]],
        *,
        describe: Callable[[T], tuple[bool, str]] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.packages = list(packages)
        self.job = job
        self.describe = describe
        self.lines: list[str] = []  # every line pip wrote, for callers and tests
        self.stage: int | None = None  # index in STAGES of the furthest stage pip reached
        self._collected: list[str] = []
        self._started = 0.0
        self._worker: Worker[None] | None = None

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self.title_text
            listed = ", ".join(self.packages) if self.packages else "(none)"
            yield Static(Content.assemble(("Packages: ", "bold"), listed), id="install-packages", markup=False)
            with Horizontal(id="install-progress"):
                yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="install-bar")
                yield Label("Starting pip…", id="install-stage", markup=False)
            log = RichLog(max_lines=LOG_LINES, wrap=True, markup=False, highlight=False, min_width=20, id="install-log")
            log.border_title = "pip output"
            yield log
            yield Static("", id="install-result", markup=False)
            yield self.keys_hint(("Esc", "cancel the install"), ("↑↓", "scroll"))

    def on_mount(self) -> None:
        super().on_mount()
        self._started = time.monotonic()
        self._worker = self.run_worker(
            self._run(), group="install", exclusive=True, exit_on_error=False, description="Running pip"
        )

    # -- the job -------------------------------------------------------------------------
    def _line(self, line: str) -> None:
        """pip's output, one line at a time, as the runtime reads it."""
        self.lines.append(line)
        if not self.is_attached:
            return
        self.query_one(RichLog).write(neutralise(line))  # a package's build output: shown, not obeyed
        stage = pip_stage(line)
        if stage is None:
            return
        if stage == 0:
            words = line.split()
            name = words[1].rsplit("/", 1)[-1] if len(words) > 1 else ""
            if name:
                self._collected.append(name)
        if self.stage is None or stage >= self.stage:
            self.stage = stage
            self._show_stage()

    def _show_stage(self) -> None:
        if self.stage is None:
            return
        self.query_one(ProgressBar).update(total=len(STAGES), progress=self.stage + 1)
        label = STAGES[self.stage][1]
        if self.stage == 0 and self._collected:
            count = len(self._collected)
            label = f"Collecting {self._collected[-1]} ({count} package{'s' if count != 1 else ''} so far)"
        elif self.stage < len(STAGES) - 1:
            label += "…"
        self.query_one("#install-stage", Label).update(f"{label}  [{self.stage + 1}/{len(STAGES)}]")

    async def _run(self) -> None:
        try:
            value = await self.job(self._line)
        except asyncio.CancelledError:
            self.post_message(InstallFinished(InstallOutcome(cancelled=True, message="Cancelled: pip was stopped and nothing was changed.")))
            raise
        except Exception as error:  # noqa: BLE001 - shown to the user; the caller gets it in the outcome
            detail = getattr(error, "detail", "")
            if detail:
                self._log_text(detail)
            self.post_message(InstallFinished(InstallOutcome(error=error, message=f"Failed: {error_text(error)}")))
            return
        ok, message = self.describe(value) if self.describe is not None else (True, "Done.")
        self.post_message(InstallFinished(InstallOutcome(value=value, problem=None if ok else message, message=message)))

    def _log_text(self, text: str) -> None:
        if self.is_attached:
            log = self.query_one(RichLog)
            for line in text.rstrip().splitlines():
                log.write(neutralise(line))

    @on(InstallFinished)
    def _finished(self, event: InstallFinished) -> None:
        event.stop()
        self.outcome = event.outcome

    def watch_outcome(self, outcome: InstallOutcome[Any] | None) -> None:
        """Say how the job ended; pip's output stays on screen until a key closes the dialog."""
        if outcome is None or not self.is_attached:
            return
        seconds = time.monotonic() - self._started
        reached = len(STAGES) if outcome.ok else (self.stage + 1 if self.stage is not None else 0)
        self.query_one(ProgressBar).update(total=len(STAGES), progress=reached)
        self.query_one("#install-stage", Label).update(f"{'Finished' if outcome.ok else 'Stopped'} after {seconds:.1f} s")
        result = self.query_one("#install-result", Static)
        result.update(("✓ " if outcome.ok else "✗ ") + neutralise(outcome.message))
        result.set_class(outcome.ok, "-ok")
        result.set_class(not outcome.ok, "-failed")
        self.query_one(".dialog--keys", Static).update("Enter/Esc close  ·  ↑↓ scroll pip's output")

    # -- keys ----------------------------------------------------------------------------
    def action_cancel_or_close(self) -> None:
        if self.finished:
            self.action_close()
            return
        if self._worker is not None:
            self._worker.cancel()
        self.query_one("#install-stage", Label).update("Cancelling: stopping pip…")

    def action_close(self) -> None:
        if self.outcome is None:
            self.app.bell()
            return
        self.dismiss(self.outcome)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":
            return self.finished
        return True
