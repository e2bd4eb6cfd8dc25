"""Checking and installing the pip requirements a pipe declares in its frontmatter.

Open WebUI hands the comma-split `requirements` value straight to pip (spec §3.2). tuichat
runs pipes inside its own interpreter, so it is stricter: every entry must be a PEP 508
requirement naming a package on the index, nothing already installed is ever sent to pip,
and no install may change a package tuichat itself depends on.
"""

from __future__ import annotations

import asyncio
import collections
import importlib
import importlib.metadata
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.runtime.loading.frontmatter import parse_requirements

__all__ = [
    "InstallResult",
    "ProtectedDistribution",
    "RequirementConflict",
    "RequirementError",
    "check_conflicts",
    "check_requirement",
    "check_requirements",
    "constraints_text",
    "install",
    "installs_allowed",
    "missing_requirements",
    "pip_command",
    "protected_distributions",
]

# How many lines of pip's output an InstallResult keeps for display.
TAIL_LINES = 40

_ROOT = "tuichat"
# Also protected although tuichat's metadata may not list them: this module imports
# `packaging`, and installs go through the interpreter's own `pip`.
_EXTRA_ROOTS = ("packaging", "pip")
# Used only when tuichat has no installed metadata (running from a bare checkout), so the
# core of the app is still protected; mirrors pyproject's dependencies.
_FALLBACK_DEPENDENCIES = ("textual", "aiosqlite", "pygments", "platformdirs", "pydantic", "orjson", "packaging")

_OFFLINE_ENV = "TUICHAT_OFFLINE"
_TRUTHY = {"1", "true", "yes", "on"}

# Anything below space except tab (PEP 508 whitespace), plus DEL: a requirement is one line.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Command substitution never appears in a requirement, even inside a marker string.
_SUBSTITUTION = ("`", "$(", "${")
_SHELL_CHARS = ("|", "&", ";", ">", "<")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip", ".egg")
_LOCATION_START = re.compile(r"^(?:\.|/|~|\\|[A-Za-z]:[\\/])")
_SPECIFIER_START = re.compile(r"^(?:===|==|!=|~=|<=|>=|<|>)")

_NAMED_ONLY = "tuichat installs only named packages from the package index"
_EXAMPLE = "e.g. 'httpx>=0.27' or 'numpy; python_version >= \"3.10\"'"


class RequirementError(RuntimeErrorBase, ValueError):
    """A frontmatter requirement tuichat refuses; the message quotes the entry and says what to do."""

    def __init__(self, entry: str, message: str) -> None:
        super().__init__(message)
        self.entry = entry


class RequirementConflict(RequirementError):
    """A requirement that would replace a package tuichat itself runs on."""

    def __init__(self, entry: str, message: str, *, name: str, installed: str) -> None:
        super().__init__(entry, message)
        self.name = name
        self.installed = installed


@dataclass(frozen=True)
class ProtectedDistribution:
    name: str  # canonical
    version: str
    required_by: str  # the package whose dependency brought it in ("tuichat" for direct ones)


@dataclass(frozen=True)
class InstallResult:
    ok: bool
    returncode: int | None  # None when pip was not run
    message: str
    requested: tuple[str, ...] = ()  # what was (or, when installs are off, would be) given to pip
    command: tuple[str, ...] = ()
    output_tail: tuple[str, ...] = field(default=())
    ran_pip: bool = False


# --- parsing -----------------------------------------------------------------


def check_requirements(text: str) -> list[Requirement]:
    """Parse a frontmatter `requirements` value; entries whose marker is false here are dropped.

    Duplicates are kept, as Open WebUI keeps them; pip treats them as one.
    """
    checked = (check_requirement(entry) for entry in parse_requirements(text))
    return [req for req in checked if _applies(req)]


def check_requirement(entry: str) -> Requirement:
    """One entry as a PEP 508 requirement by name, or RequirementError saying why not."""
    entry = entry.strip()
    if not entry:
        raise RequirementError(entry, f"empty requirement; write a package name, {_EXAMPLE}")
    if _CONTROL.search(entry):
        raise RequirementError(
            entry,
            f"requirement {entry!r} contains a line break or control character; "
            "a requirement is a single line such as 'httpx>=0.27'",
        )
    if entry.startswith("-"):
        raise RequirementError(
            entry,
            f"requirement {entry!r} is a pip option, not a package; tuichat never passes options from "
            "a pipe to pip. Configure pip with the PIP_OPTIONS / PIP_PACKAGE_INDEX_OPTIONS environment "
            "variables (e.g. PIP_PACKAGE_INDEX_OPTIONS='--index-url URL') and list only package names",
        )
    for token in _SUBSTITUTION:
        if token in entry:
            raise RequirementError(
                entry,
                f"requirement {entry!r} contains shell command substitution ({token!r}); tuichat never "
                f"runs a shell and a requirement never needs it. Write a package name, {_EXAMPLE}",
            )
    try:
        req = Requirement(entry)
    except InvalidRequirement as exc:
        raise RequirementError(entry, _explain_invalid(entry, exc)) from None
    if req.url:
        raise RequirementError(
            entry,
            f"requirement {entry!r} is a direct reference to {req.url!r}; {_NAMED_ONLY}. "
            f"Publish the package or install it yourself, then list it by name ('{req.name}')",
        )
    return req


def _explain_invalid(entry: str, exc: InvalidRequirement) -> str:
    # Order matters: a path like './pkg' and a split-off specifier like '<0.28' are more
    # useful diagnoses than packaging's generic parser message.
    reason = str(exc).splitlines()[0] if str(exc) else "not PEP 508"
    # Only the part before a ';' can be a location: 'pkg; rm -rf /' is a bad marker instead.
    head = entry.partition(";")[0].strip()
    lowered = head.lower()
    if (
        _LOCATION_START.match(head)
        or "://" in head
        or lowered.startswith("file:")
        or lowered.endswith(_ARCHIVE_SUFFIXES)
        or "/" in head
        or "\\" in head
    ):
        return (
            f"requirement {entry!r} is a path or URL, not a package name; {_NAMED_ONLY}. "
            "Install local packages yourself, then list them by name"
        )
    if _SPECIFIER_START.match(entry):
        return (
            f"requirement {entry!r} is a version specifier without a package name; requirements are "
            "split on commas, so 'httpx>=0.27,<0.28' becomes two entries. Use a single specifier such "
            "as 'httpx~=0.27.0'"
        )
    if ";" in entry:
        name, _, marker = entry.partition(";")
        return (
            f"requirement {entry!r}: the text after ';' ({marker.strip()!r}) is not an environment "
            f"marker; tuichat never runs a shell. Write '{name.strip()}' alone or with a marker, "
            "e.g. '; python_version >= \"3.10\"'"
        )
    for char in _SHELL_CHARS:
        if char in entry:
            return (
                f"requirement {entry!r} contains {char!r}, which is shell syntax and not part of a "
                f"requirement; tuichat never runs a shell. List packages separated by commas, {_EXAMPLE}"
            )
    return f"requirement {entry!r} is not a valid PEP 508 requirement ({reason}); write a package name, {_EXAMPLE}"


def _evaluate(marker: Marker, extra: str = "") -> bool:
    # packaging >= 22 insists on an 'extra' key for markers that mention it.
    return marker.evaluate({"extra": extra})


def _applies(req: Requirement) -> bool:
    return req.marker is None or _evaluate(req.marker)


def _coerce(reqs: Iterable[Requirement | str]) -> list[Requirement]:
    # Strings are re-checked so every path into pip goes through the same refusals.
    out = [req if isinstance(req, Requirement) else check_requirement(req) for req in reqs]
    return [req for req in out if _applies(req)]


# --- installed state -----------------------------------------------------------


def _installed() -> dict[str, importlib.metadata.Distribution]:
    """Installed distributions by canonical name; the first on sys.path wins, as for imports."""
    found: dict[str, importlib.metadata.Distribution] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            found.setdefault(canonicalize_name(name), dist)
    return found


def _requires(dist: importlib.metadata.Distribution) -> list[Requirement]:
    parsed: list[Requirement] = []
    for text in dist.requires or ():
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement:
            continue  # a broken dependency line in someone else's metadata is not ours to fail on
    return parsed


def _contains(specifier: SpecifierSet, version: str) -> bool:
    try:
        return specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False  # unknown version scheme: let pip decide


def _satisfied(
    req: Requirement,
    installed: dict[str, importlib.metadata.Distribution],
    seen: set[tuple[str, str]],
) -> bool:
    dist = installed.get(canonicalize_name(req.name))
    if dist is None or not _contains(req.specifier, dist.version):
        return False
    # An extra is satisfied when the dependencies it switches on are installed too.
    for extra in sorted(canonicalize_name(e) for e in req.extras):
        key = (canonicalize_name(req.name), extra)
        if key in seen:
            continue
        seen.add(key)
        for dep in _requires(dist):
            switched_on = dep.marker is not None and _evaluate(dep.marker, extra) and not _evaluate(dep.marker)
            if switched_on and not _satisfied(dep, installed, seen):
                return False
    return True


def missing_requirements(reqs: Iterable[Requirement | str]) -> list[Requirement]:
    """The requirements installed distributions do not satisfy, in order (no pip involved)."""
    installed = _installed()
    return [req for req in _coerce(reqs) if not _satisfied(req, installed, set())]


def protected_distributions() -> dict[str, ProtectedDistribution]:
    """tuichat's installed dependency closure, by canonical name, with markers evaluated here."""
    installed = _installed()
    try:
        roots = [Requirement(text) for text in importlib.metadata.requires(_ROOT) or ()]
    except importlib.metadata.PackageNotFoundError:
        roots = [Requirement(name) for name in _FALLBACK_DEPENDENCIES]
    roots += [Requirement(name) for name in _EXTRA_ROOTS]

    protected: dict[str, ProtectedDistribution] = {}
    if _ROOT in installed:
        protected[_ROOT] = ProtectedDistribution(_ROOT, installed[_ROOT].version, _ROOT)
    # Markers are decided before queueing, in the parent's context: only the extras it was asked for.
    queue = [(req, _ROOT) for req in roots if _applies(req)]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        req, parent = queue.pop(0)
        name = canonicalize_name(req.name)
        extras = frozenset(canonicalize_name(e) for e in req.extras)
        if (name, extras) in seen or name not in installed:
            continue
        seen.add((name, extras))
        dist = installed[name]
        protected.setdefault(name, ProtectedDistribution(name, dist.version, parent))
        for dep in _requires(dist):
            if dep.marker is None or any(_evaluate(dep.marker, e) for e in extras | {""}):
                queue.append((dep, name))
    return protected


def check_conflicts(reqs: Iterable[Requirement | str]) -> None:
    """Raise RequirementConflict for a requirement that would change a package tuichat runs on."""
    protected = protected_distributions()
    for req in _coerce(reqs):
        dist = protected.get(canonicalize_name(req.name))
        if dist is None or not req.specifier:
            continue
        try:
            Version(dist.version)
        except InvalidVersion:
            continue  # cannot compare; the constraints file still pins it for pip
        if not _contains(req.specifier, dist.version):
            raise RequirementConflict(str(req), _conflict_message(req, dist), name=dist.name, installed=dist.version)


def _conflict_message(req: Requirement, dist: ProtectedDistribution) -> str:
    major = dist.version.split(".")[0]
    how = "tuichat itself runs on" if dist.required_by == _ROOT else f"tuichat needs (through {dist.required_by})"
    return (
        f"requirement '{req}' conflicts with tuichat: {how} {dist.name} {major}.x "
        f"(installed: {dist.version}); installing {req} would break it. Use a version of the pipe "
        f"that works with {dist.name} {dist.version}, or run it in a separate environment"
    )


def constraints_text(protected: dict[str, ProtectedDistribution] | None = None) -> str:
    """A pip constraints file pinning every protected package to its installed version."""
    protected = protected_distributions() if protected is None else protected
    lines = []
    for name, dist in sorted(protected.items()):
        try:
            Version(dist.version)
            lines.append(f"{name}=={dist.version}")
        except InvalidVersion:
            lines.append(f"{name}==={dist.version}")  # arbitrary equality for non-PEP 440 versions
    return "\n".join(lines) + "\n"


# --- installing -----------------------------------------------------------------


def installs_allowed() -> bool:
    """False when TUICHAT_OFFLINE is set to a true value."""
    return os.environ.get(_OFFLINE_ENV, "").strip().lower() not in _TRUTHY


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
) -> InstallResult:
    """Install what is missing of `reqs` with pip, streaming its output to `on_line`.

    Already-satisfied requirements never reach pip; when all are satisfied pip is not run.
    Raises RequirementError/RequirementConflict before any pip call. Cancelling the
    coroutine terminates pip. An exception from `on_line` also stops pip and propagates.
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
            message=f"installs are off ({_OFFLINE_ENV} or offline mode); not installed: {listed}",
            requested=requested,
        )

    with tempfile.TemporaryDirectory(prefix="tuichat-pip-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text(constraints_text(), encoding="utf-8")
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
        )
    return InstallResult(
        ok=False,
        returncode=returncode,
        message=_failure_message(listed, returncode, tail),
        requested=requested,
        command=tuple(command),
        output_tail=tail,
        ran_pip=True,
    )


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
        if any("(constraint)" in cause for cause in causes):
            return (
                f"pip could not install {listed} without changing packages tuichat depends on (they are "
                f"pinned to their installed versions): {because}"
            )
        return f"pip found conflicting requirements while installing {listed}: {because}"
    errors = [line.removeprefix("ERROR: ").strip() for line in tail if line.startswith("ERROR:")]
    detail = f": {errors[-1]}" if errors else ""
    return f"pip failed to install {listed} (exit code {returncode}){detail}"


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
