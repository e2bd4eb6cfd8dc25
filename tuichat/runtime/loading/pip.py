"""Running pip for a pipe's requirements: only what is missing, with tuichat's own
requirements held to their ranges by a constraints file, its output streamed line by line.

Before it installs, pip resolves the install without doing it (`--dry-run --report`):
when that would change a package already installed (another pipe's SDK moving to an
older or newer version), the changes are shown and the install goes ahead only if the
caller agrees (`confirm`; the CLI's `--yes`, the TUI's dialog)."""

from __future__ import annotations

import asyncio
import collections
import importlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tuichat.runtime.loading.requirements import (
    OFFLINE_ENV,
    TAIL_LINES,
    TRUTHY,
    _installed,
    check_conflicts,
    constraints_text,
    missing_requirements,
    protected_distributions,
)


@dataclass(frozen=True)
class PackageChange:
    """An installed package an install would move to another version."""

    name: str
    installed: str
    new: str

    @property
    def kind(self) -> str:
        try:
            return "downgrade" if Version(self.new) < Version(self.installed) else "upgrade"
        except InvalidVersion:
            return "replace"

    def __str__(self) -> str:
        return f"{self.name} {self.installed} -> {self.new} ({self.kind})"


ConfirmChanges = Callable[[list[PackageChange]], Awaitable[bool]]


@dataclass(frozen=True)
class InstallResult:
    ok: bool
    returncode: int | None  # None when pip was not run
    message: str
    requested: tuple[str, ...] = ()  # what was (or, when installs are off, would be) given to pip
    command: tuple[str, ...] = ()
    output_tail: tuple[str, ...] = field(default=())
    ran_pip: bool = False
    skipped: bool = False  # installs are off (offline): nothing was tried
    changes: tuple[PackageChange, ...] = ()  # installed packages it changes (or would have)
    declined: bool = False  # it would change installed packages and that was not agreed to


def installs_allowed() -> bool:
    """False when TUICHAT_OFFLINE is set to a true value."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in TRUTHY


def pip_command(reqs: Iterable[Requirement | str], constraints: str | os.PathLike[str]) -> list[str]:
    """The argument list for pip, laid out as Open WebUI does (spec §3.2) plus the constraints.

    The env options are read at call time, so a change to the environment applies to the next install.
    """
    return [
        sys.executable, "-m", "pip", "install",
        *os.environ.get("PIP_OPTIONS", "").split(),
        "-c", os.fspath(constraints),
        *(str(req) for req in reqs),
        *os.environ.get("PIP_PACKAGE_INDEX_OPTIONS", "").split(),
    ]


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    # Already expanded onto the command line; pip would otherwise read PIP_* as its own options.
    env.pop("PIP_OPTIONS", None)
    env.pop("PIP_PACKAGE_INDEX_OPTIONS", None)
    env.setdefault("PIP_NO_INPUT", "1")  # never wait for a password prompt nobody sees
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env["PYTHONUNBUFFERED"] = "1"  # lines arrive as pip writes them
    env["PYTHONIOENCODING"] = "utf-8"
    return env


async def install(
    reqs: Iterable[Requirement | str],
    *,
    on_line: Callable[[str], None] | None = None,
    offline: bool = False,
    confirm: ConfirmChanges | None = None,
    assume_yes: bool = False,
) -> InstallResult:
    """Install what is missing of `reqs` with pip, streaming its output to `on_line`.

    Already-satisfied requirements never reach pip; when all are satisfied pip is not run.
    Raises RequirementError/RequirementConflict before any pip call. When the install would
    change installed packages, it goes ahead only with `assume_yes` or `confirm(changes)`
    agreeing; otherwise the result is `declined`. Cancelling the coroutine terminates pip.
    An exception from `on_line` also stops pip and propagates.
    """
    missing = missing_requirements(reqs)
    if not missing:
        return InstallResult(ok=True, returncode=None, message="all requirements are already installed")
    check_conflicts(missing)
    requested = tuple(str(req) for req in missing)
    listed = ", ".join(requested)
    if offline or not installs_allowed():
        return InstallResult(
            ok=False,
            returncode=None,
            message=f"installs are off ({OFFLINE_ENV} or offline mode); not installed: {listed}",
            requested=requested,
            skipped=True,
        )

    changes: tuple[PackageChange, ...] = ()
    with tempfile.TemporaryDirectory(prefix="tuichat-pip-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text(constraints_text(), encoding="utf-8")
        planned = await _planned_changes(missing, constraints, Path(tmp) / "report.json", on_line)
        if isinstance(planned, tuple) and isinstance(planned[0], int):  # pip refused already
            returncode, tail = planned
            return _failed(listed, returncode, tail, requested, pip_command(missing, constraints))
        changes = tuple(planned)
        if changes and not assume_yes and (confirm is None or not await confirm(list(changes))):
            shown = "; ".join(str(change) for change in changes)
            return InstallResult(
                ok=False,
                returncode=None,
                message=(
                    f"installing {listed} would change installed packages: {shown}. Nothing was installed; "
                    "agree to the change (`--yes` on the command line) to install anyway"
                ),
                requested=requested,
                changes=changes,
                declined=True,
            )
        command = pip_command(missing, constraints)
        returncode, tail = await _run(command, on_line)

    if returncode == 0:
        importlib.invalidate_caches()  # let the new packages be found by the next import
        return InstallResult(
            ok=True,
            returncode=0,
            message=f"installed {listed}",
            requested=requested,
            command=tuple(command),
            output_tail=tail,
            ran_pip=True,
            changes=changes,
        )
    return _failed(listed, returncode, tail, requested, command)


def _failed(listed: str, returncode: int, tail: tuple[str, ...], requested: tuple[str, ...], command: list[str]) -> InstallResult:
    return InstallResult(
        ok=False,
        returncode=returncode,
        message=_failure_message(listed, returncode, tail),
        requested=requested,
        command=tuple(command),
        output_tail=tail,
        ran_pip=True,
    )


async def _planned_changes(
    missing: list[Requirement], constraints: Path, report: Path, on_line: Callable[[str], None] | None
) -> list[PackageChange] | tuple[int, tuple[str, ...]]:
    """What installing `missing` would change among installed packages, from pip's own
    resolution (`--dry-run --report`); or pip's (exit code, output) when it refuses."""
    command = pip_command(missing, constraints)
    at = command.index("install") + 1 if "install" in command else len(command)
    command[at:at] = ["--dry-run", "--report", os.fspath(report)]
    returncode, tail = await _run(command, on_line)
    if returncode != 0:
        if any("no such option" in line for line in tail):
            return []  # a pip too old to report: install without the check
        return returncode, tail
    try:
        planned = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    except (OSError, ValueError):
        return []
    installed = _installed()
    changes = []
    for item in planned:
        metadata = item.get("metadata") or {}
        name, version = canonicalize_name(str(metadata.get("name", ""))), str(metadata.get("version", ""))
        dist = installed.get(name)
        if dist is not None and version and dist.version != version:
            changes.append(PackageChange(name, dist.version, version))
    return changes


async def _run(command: list[str], on_line: Callable[[str], None] | None) -> tuple[int, tuple[str, ...]]:
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def emit(raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        tail.append(line)
        if on_line is not None:
            on_line(line)

    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=_pip_env(),
    )
    assert process.stdout is not None
    try:
        # Chunked reads instead of readline(): a very long line must not hit the reader's limit.
        pending = b""
        while chunk := await process.stdout.read(65536):
            *lines, pending = (pending + chunk).split(b"\n")
            for raw in lines:
                emit(raw)
        if pending:
            emit(pending)
        returncode = await process.wait()
    except BaseException:
        await _terminate(process)
        raise
    return returncode, tuple(tail)


async def _terminate(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    try:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            process.kill()
            await process.wait()
    except ProcessLookupError:
        pass


def _failure_message(listed: str, returncode: int, tail: tuple[str, ...]) -> str:
    causes = _conflict_causes(tail)
    if causes:
        because = "; ".join(causes)
        # pip marks requirements that came from our constraints file with "(constraint)".
        held = _tuichat_requirements_in_the_way(causes)
        if held or any("(constraint)" in cause for cause in causes):
            which = ", ".join(held) or "one of them"
            return (
                f"pip could not install {listed} without changing packages tuichat depends on: {because}. "
                f"In the way: tuichat's own requirement {which}. Use a version of the pipe (or of its "
                "requirements) that works with it, or give the pipe a tuichat of its own: "
                "`python -m venv ENV`, `ENV/bin/pip install tuichat`, and run `ENV/bin/tuichat` with the same --db"
            )
        return f"pip found conflicting requirements while installing {listed}: {because}"
    errors = [line.removeprefix("ERROR: ").strip() for line in tail if line.startswith("ERROR:")]
    detail = f": {errors[-1]}" if errors else ""
    return f"pip failed to install {listed} (exit code {returncode}){detail}"


def _tuichat_requirements_in_the_way(causes: list[str]) -> list[str]:
    """tuichat's requirements (as held by the constraints file) that the conflict names."""
    protected = protected_distributions()
    found = []
    for name, dist in sorted(protected.items()):
        word = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", re.IGNORECASE)
        if any(word.search(cause.replace("_", "-")) for cause in causes):
            found.append(f"{name}{dist.compatible}")
    return found


def _conflict_causes(tail: tuple[str, ...]) -> list[str]:
    """The indented lines under pip's "The conflict is caused by:" heading."""
    causes: list[str] = []
    inside = False
    for line in tail:
        if line.strip() == "The conflict is caused by:":
            inside = True
        elif inside and line.startswith((" ", "\t")) and line.strip():
            causes.append(line.strip())
        elif inside:
            break
    return causes
