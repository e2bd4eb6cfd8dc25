"""A function's versions, newest first, each diffed against the editor's text.

Pushed by the pipe editor (F4). Every save, refused save, restore and live reload left a
version (`FunctionLibrary.versions`), so a bad save is never a loss: pick one and

- Enter loads it into the editor as unsaved changes (nothing is stored until F2 there;
  ctrl+z in the editor undoes the load), or
- ctrl+r restores it: the editor loads it and saves it at once (`FunctionLibrary.restore`,
  checked and loaded like any save; a refused version shows its error in the editor).

The screen dismisses with a `HistoryChoice`, or None (Escape). Tab moves between the list and
the diff, so a long diff scrolls with the arrow keys. Laid out for 80x24: the list on top, the
diff of the highlighted version below it.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from tuichat.runtime.reply.present import first_line
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.widgets.footer import Footer
from tuichat.ui.workshop.base import WorkshopScreen

if TYPE_CHECKING:
    from tuichat.store import FunctionRow, FunctionVersion

HistoryAction = Literal["load", "restore"]


@dataclass(frozen=True)
class HistoryChoice:
    """What the user chose: load `version` into the editor, or restore (load and save) it."""

    action: HistoryAction
    version: FunctionVersion


def when(created_at: float, now: float | None = None) -> str:
    """`today 14:03:22`, or `2026-05-09 14:03` for an older day (local time)."""
    moment = time.localtime(created_at)
    today = time.localtime(now if now is not None else time.time())
    if moment[:3] == today[:3]:
        return time.strftime("today %H:%M:%S", moment)
    return time.strftime("%Y-%m-%d %H:%M", moment)


def current_version_id(versions: Iterable[FunctionVersion], content: str) -> int | None:
    """The newest version holding what the function serves now (a refused one never does)."""
    return next((v.id for v in versions if v.error is None and v.content == content), None)


def version_label(version: FunctionVersion, *, current: bool, now: float | None = None) -> Content:
    """One list row: number, time, origin, then "● current" or "✗ refused: <error>"."""
    parts: list[str | tuple[str, str]] = [
        (f"#{version.number:<4}", "$text-muted"),
        f" {when(version.created_at, now):<19} {version.origin:<10}",
    ]
    if version.error is not None:
        parts.append(("✗ refused: " + neutralise(first_line(version.error)), "$text-warning"))
    elif current:
        parts.append(("● current", "bold $text-success"))
    return Content.assemble(*parts)


def diff_lines(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    return list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), fromfile=old_name, tofile=new_name, lineterm="")
    )


def render_diff(lines: list[str]) -> Content:
    """A unified diff, coloured by line kind; the +/- signs carry it without colour (NO_COLOR)."""
    styled: list[tuple[str, str] | str] = []
    for line in lines:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "$text-accent"
        elif line.startswith("+"):
            style = "$text-success"
        elif line.startswith("-"):
            style = "$text-error"
        else:
            style = ""
        styled.append((line + "\n", style) if style else line + "\n")
    return Content.assemble(*styled).rstrip()


class VersionsRead(Message):
    """The function as stored now, and its versions, newest first."""

    def __init__(self, row: FunctionRow, versions: list[FunctionVersion]) -> None:
        super().__init__()
        self.row = row
        self.versions = versions


class HistoryScreen(WorkshopScreen[HistoryChoice | None]):
    """Browse a function's versions and pick one to load into the editor or restore."""

    CSS_PATH = "history_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority, so the footer shows it over the list's own (hidden) Enter binding.
        Binding("enter", "load", "Load into editor", id="history.load", priority=True),
        Binding("ctrl+r", "restore", "Restore & save", id="history.restore"),
        Binding("escape,f4", "back", "Back", id="history.back"),
    ]
    AUTO_FOCUS = "#versions"

    versions: var[list[FunctionVersion] | None] = var(None, bindings=True)
    """Newest first, once read."""

    def __init__(self, function_id: str, current_text: str | None = None) -> None:
        """`current_text` is what the editor holds now; None diffs against the stored source."""
        super().__init__()
        self.function_id = function_id
        self.current_text = current_text
        self.current_id: int | None = None
        self.title = f"History of {function_id}"

    def compose(self) -> ComposeResult:
        yield Header()
        versions = OptionList(id="versions")
        versions.border_title = "Versions, newest first"
        versions.border_subtitle = "Enter loads · ctrl+r restores & saves"
        yield versions
        yield Static("Loading versions…", id="about", markup=False)
        with VerticalScroll(id="diff") as diff:
            diff.border_title = "Diff"
            yield Static("", id="diff-text", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(group="history-load", exclusive=True, exit_on_error=False, description="Reading the versions failed")
    async def _load(self) -> None:
        library = await self.library()
        row = await library.get(self.function_id)
        self.post_message(VersionsRead(row, await library.versions(self.function_id)))

    @on(VersionsRead)
    def _versions_read(self, event: VersionsRead) -> None:
        if self.current_text is None:
            self.current_text = event.row.content
        self.versions = event.versions
        self.current_id = current_version_id(event.versions, event.row.content)
        now = time.time()
        options = self.query_one("#versions", OptionList)
        options.clear_options()
        options.add_options(
            Option(version_label(v, current=v.id == self.current_id, now=now), id=str(v.id)) for v in event.versions
        )
        if event.versions:
            options.highlighted = 0
        else:
            self.query_one("#about", Static).update("No versions are stored for this function.")

    # -- the highlighted version and its diff ----------------------------------------------
    @property
    def highlighted(self) -> FunctionVersion | None:
        options = self.query_one("#versions", OptionList)
        if self.versions is None or options.highlighted is None:
            return None
        return self.versions[options.highlighted]

    @on(OptionList.OptionHighlighted, "#versions")
    def _highlighted(self) -> None:
        self._show(self.highlighted)

    def _show(self, version: FunctionVersion | None) -> None:
        about = self.query_one("#about", Static)
        text = self.query_one("#diff-text", Static)
        if version is None:
            return
        current = self.current_text or ""
        # Shown, not obeyed: a source may hold control characters (an imported one, say).
        lines = [neutralise(line) for line in diff_lines(version.content, current, f"version #{version.number}", "editor")]
        about.set_class(version.error is not None, "-refused")
        if version.error is not None:
            about.update(f"#{version.number} was refused: {neutralise(version.error)}")
        elif version.id == self.current_id:
            about.update(f"#{version.number} is what the function serves now ({version.origin}, {when(version.created_at)}).")
        else:
            about.update(f"#{version.number}: {version.origin}, {when(version.created_at)}.")
        diff = self.query_one("#diff", VerticalScroll)
        if lines:
            diff.border_title = f"Diff: - only in #{version.number}, + only in the editor"
            text.update(render_diff(lines))
        else:
            diff.border_title = "Diff"
            text.update(f"Version #{version.number} is the same as the editor's text.")
        diff.scroll_home(animate=False)

    @property
    def diff_text(self) -> str:
        """The diff as shown (plain text), for tests and copying."""
        rendered: Any = self.query_one("#diff-text", Static).render()
        return str(getattr(rendered, "plain", rendered))

    # -- choosing ------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#versions")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_load()

    def action_load(self) -> None:
        self._choose("load")

    def action_restore(self) -> None:
        self._choose("restore")

    def _choose(self, action: HistoryAction) -> None:
        version = self.highlighted
        if version is None:
            self.app.bell()
            return
        self.dismiss(HistoryChoice(action, version))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("load", "restore"):
            return bool(self.versions)
        return True

    def action_back(self) -> None:
        self.dismiss(None)
