"""What the function library's operations return, and how far it may go to make a function load."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.runtime.loading.pip import ConfirmChanges, InstallResult, install
from tuichat.store import FunctionRow

LineSink = Callable[[str], None]


class FunctionNotFound(RuntimeErrorBase):
    pass


class FunctionExists(RuntimeErrorBase):
    pass


@dataclass
class NewFunction:
    row: FunctionRow
    replaced: bool
    installed: list[str] = field(default_factory=list)  # packages pip installed for it
    problem: str | None = None  # why it is stored but inactive (a failed or skipped install)
    warning: str | None = None  # requirements not installed, though it loads without them


@dataclass
class Saved:
    """The outcome of saving new source over a stored function."""

    row: FunctionRow
    changed: bool  # False when the source was already stored as it is
    installed: list[str] = field(default_factory=list)
    problem: str | None = None  # stored, but inactive until this is fixed (a failed install)
    warning: str | None = None  # requirements not installed, though it loads without them
    wrote: str | None = None  # the linked file the source was written to
    file_error: str | None = None  # why the linked file could not be written (the store has it)


@dataclass
class Checked:
    """A source that loaded in the host process."""

    type: str
    frontmatter: dict[str, str] = field(default_factory=dict)


@dataclass
class InstallPolicy:
    """How far tuichat may go to make a function load."""

    install_missing: bool = False  # also install packages the code imports but does not declare
    offline: bool = False  # install nothing at all
    on_line: LineSink | None = None  # pip's output, line by line
    # An install that would change packages already installed: go ahead (`--yes`), or ask.
    assume_yes: bool = False
    confirm: ConfirmChanges | None = None

    async def install(self, requirements: Any) -> InstallResult:
        return await install(
            requirements, on_line=self.on_line, offline=self.offline, confirm=self.confirm, assume_yes=self.assume_yes
        )
