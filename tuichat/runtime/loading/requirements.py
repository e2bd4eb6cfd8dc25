"""Checking and installing the pip requirements a pipe declares in its frontmatter.

Open WebUI hands the comma-split `requirements` value straight to pip (spec §3.2). tuichat
runs pipes inside its own interpreter, so it is stricter: every entry must be a PEP 508
requirement naming a package on the index, nothing already installed is ever sent to pip
(nor a bare name of a standard-library module, such as `typing`), and no install may take
one of tuichat's own requirements out of the range tuichat works with. Only tuichat's
direct requirements are held, each to its declared range and the installed major version
(`pydantic>=2,<3`), not every package under them to its exact version: a pipe's SDK may
move a shared package within what tuichat's requirements accept. Running pip is `pip.py`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tuichat.runtime.errors import RuntimeErrorBase
from tuichat.runtime.loading.frontmatter import parse_requirements

__all__ = [
    "ProtectedDistribution",
    "RequirementConflict",
    "RequirementError",
    "check_conflicts",
    "check_requirement",
    "check_requirements",
    "constraints_text",
    "missing_requirements",
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
_FALLBACK_DEPENDENCIES = (
    "textual", "aiosqlite", "pygments", "platformdirs", "pydantic", "orjson", "packaging",
    "requests", "aiohttp", "httpx", "fastapi", "loguru",
)  # fmt: skip

OFFLINE_ENV = "TUICHAT_OFFLINE"
TRUTHY = {"1", "true", "yes", "on"}

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
    declared: str = ""  # the specifier tuichat's metadata declares for a direct one ("" for any)

    @property
    def compatible(self) -> SpecifierSet:
        """What tuichat accepts: the declared range, within the installed major version."""
        spec = SpecifierSet(self.declared)
        try:
            version = Version(self.version)
        except InvalidVersion:
            return spec
        if not any(s.operator in ("<", "<=", "==", "===", "~=") for s in spec):
            spec &= SpecifierSet(f"<{version.major + 1}" if version.major else "<1")
        return spec


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
    """The requirements installed distributions do not satisfy, in order (no pip involved).

    A bare standard-library module name is satisfied by Python itself."""
    installed = _installed()
    return [req for req in _coerce(reqs) if not is_stdlib_name(req) and not _satisfied(req, installed, set())]


def protected_distributions() -> dict[str, ProtectedDistribution]:
    """tuichat's direct requirements (and pip, which installs), installed, by canonical name."""
    installed = _installed()
    try:
        roots = [Requirement(text) for text in importlib.metadata.requires(_ROOT) or ()]
    except importlib.metadata.PackageNotFoundError:
        roots = [Requirement(name) for name in _FALLBACK_DEPENDENCIES]
    roots += [Requirement(name) for name in _EXTRA_ROOTS]
    protected: dict[str, ProtectedDistribution] = {}
    if _ROOT in installed:
        protected[_ROOT] = ProtectedDistribution(_ROOT, installed[_ROOT].version, _ROOT, f"=={installed[_ROOT].version}")
    for req in roots:
        name = canonicalize_name(req.name)
        if not _applies(req) or name not in installed:
            continue  # an extra's requirement (test), or one this platform does not take
        known = protected.get(name)
        declared = str(req.specifier & SpecifierSet(known.declared)) if known else str(req.specifier)
        protected[name] = ProtectedDistribution(name, installed[name].version, _ROOT, declared)
    return protected


def check_conflicts(reqs: Iterable[Requirement | str]) -> None:
    """Raise RequirementConflict for a requirement no version of which tuichat accepts.

    A version the requirement names (or the installed one) that both accept means it may
    fit: pip, with tuichat's ranges as constraints, decides the rest.
    """
    protected = protected_distributions()
    for req in _coerce(reqs):
        dist = protected.get(canonicalize_name(req.name))
        if dist is None or not req.specifier:
            continue
        candidates = [dist.version] + [spec.version.rstrip(".*") for spec in req.specifier]
        accepted = dist.compatible
        if not any(_contains(req.specifier, c) and _contains(accepted, c) for c in candidates):
            raise RequirementConflict(str(req), _conflict_message(req, dist), name=dist.name, installed=dist.version)


def _conflict_message(req: Requirement, dist: ProtectedDistribution) -> str:
    major = dist.version.split(".")[0]
    return (
        f"requirement '{req}' conflicts with tuichat: tuichat itself runs on {dist.name} {major}.x "
        f"({dist.name}{dist.compatible}, installed: {dist.version}); installing {req} would break it. "
        f"Use a version of the pipe that works with {dist.name} {dist.compatible}, or install tuichat in an "
        "environment of its own for that pipe (`python -m venv`, then `pip install tuichat` there)"
    )


def constraints_text(protected: dict[str, ProtectedDistribution] | None = None) -> str:
    """A pip constraints file holding each of tuichat's requirements to the range it accepts."""
    protected = protected_distributions() if protected is None else protected
    return "".join(f"{name}{dist.compatible}\n" for name, dist in sorted(protected.items()))


def is_stdlib_name(req: Requirement) -> bool:
    """`typing`, `asyncio`, `json` as a requirement: a module every Python has, not a package to install."""
    return not req.specifier and not req.extras and req.name in sys.stdlib_module_names
