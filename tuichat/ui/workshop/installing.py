"""Installing what a function needs, one loop for every workshop workflow (`with_installs`).

pip runs only for what the user agreed to (`agree_to_install`; packages already installed are
moved to other versions only if they agree again, `agree_to_changes`), in the install dialog
that streams its output; a load that then fails on a module the code imports but does not
declare offers that module too, and runs again; Escape in the dialog stops it all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tuichat.runtime.errors import FunctionLoadError
from tuichat.runtime.importing import ImportSummary
from tuichat.runtime.library import InstallPolicy, installable_missing
from tuichat.store import FunctionRow
from tuichat.ui.workshop.base import Stopped, WorkshopScreen
from tuichat.ui.workshop.install_dialog import InstallOutcome, InstallScreen, LineSink

T = TypeVar("T")
Screen = WorkshopScreen[Any]


async def agree_to_install(screen: Screen, who: str, missing: list[str], if_not: str) -> bool:
    """Ask before pip runs for `missing`, the requirements `who` declares and lacks."""
    if not missing:
        return False
    one = len(missing) == 1
    return await screen.confirm(
        f"{who} needs {'a package that is' if one else 'packages that are'} not installed:\n\n  {', '.join(missing)}\n\n"
        f"Install {'it' if one else 'them'} with pip now? {if_not}",
        title="Install requirements?", yes="Install", no="Not now",
    )


async def agree_to_changes(screen: Screen, changes: list[Any]) -> bool:
    """Ask before an install that would move packages already installed to other versions."""
    shown = "\n".join(f"  {change}" for change in changes)
    return await screen.confirm(
        f"Installing this would change packages that are already installed (another pipe may need them "
        f"as they are):\n\n{shown}\n\nChange them?",
        title="Change installed packages?", yes="Change them", no="Don't install",
    )


def describe(value: Any) -> tuple[bool, str]:
    """The install dialog's last line for what a job returned: a function stored but off after
    a failed install is not a success."""
    if isinstance(value, ImportSummary):
        if value.off:
            return False, f"Imported, but switched off: {', '.join(value.off)} (see the pipes list)."
        count = len(value.added)
        return True, f"Imported {count} function{'s' if count != 1 else ''}."
    row: FunctionRow = getattr(value, "row", value)
    if problem := getattr(value, "problem", None):
        return False, f"'{row.id}' is stored but switched off: {problem}"
    installed = getattr(value, "installed", None)
    done = f"Installed {', '.join(installed)}; " if installed else ""
    return True, f"{done}'{row.id}' is loaded{' and on' if row.is_active else ''}."


async def with_installs(screen: Screen, title: str, packages: list[str], run: Callable[[InstallPolicy], Awaitable[T]]) -> T:
    """`run(policy)`, with pip allowed for `packages` (agreed to) in the install dialog, or
    offline when there are none. A load that fails on a module the code imports but does not
    declare offers it (once), and runs again with it. Raises Stopped when pip is cancelled, and
    the load error when the offer is declined."""
    packages, install_missing, offered = list(packages), False, set[str]()
    while True:
        try:
            if not packages:
                return await run(InstallPolicy(offline=True))
            return await _in_install_dialog(screen, title, packages, install_missing, run)
        except FunctionLoadError as error:
            found = installable_missing(error)
            if found is None or found[1] in offered or found[1] in packages:
                raise
            module, distribution = found
            offered.add(distribution)
            if not await screen.confirm(
                f"The code imports '{module}', which is not installed. It comes from the "
                f"'{distribution}' distribution on the package index.\n\nInstall {distribution} with pip and try again?",
                title="Missing module", yes="Install", no="Not now",
            ):
                raise
            packages, install_missing = [*packages, distribution], True


async def _in_install_dialog(
    screen: Screen, title: str, packages: list[str], install_missing: bool, run: Callable[[InstallPolicy], Awaitable[T]]
) -> T:
    def job(on_line: LineSink) -> Awaitable[T]:
        return run(
            InstallPolicy(
                install_missing=install_missing, on_line=on_line, confirm=lambda changes: agree_to_changes(screen, changes)
            )
        )

    outcome: InstallOutcome[T] | None = await screen.ask(InstallScreen(title, packages, job, describe=describe))
    if outcome is None or outcome.cancelled:
        raise Stopped("Install cancelled: nothing was changed.")
    if outcome.error is not None:
        raise outcome.error
    return outcome.value  # type: ignore[return-value]
