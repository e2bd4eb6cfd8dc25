"""Frontmatter requirements: parsing, refusals, installed checks, protection, real pip installs
from hand-built local wheels (no network), and missing-module diagnosis."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.wheels import build_wheel, uninstall
from tuichat.runtime.loading import pip as pipmod
from tuichat.runtime.loading import requirements as reqmod
from tuichat.runtime.loading.missing import MissingModule, diagnose, distribution_for_module
from tuichat.runtime.loading.pip import install, installs_allowed, pip_command
from tuichat.runtime.loading.requirements import (
    RequirementConflict,
    RequirementError,
    check_conflicts,
    check_requirements,
    constraints_text,
    missing_requirements,
    protected_distributions,
)

# --- helpers ---------------------------------------------------------------------


def names(reqs: list[Requirement]) -> list[str]:
    return [str(req) for req in reqs]


# --- parsing -----------------------------------------------------------------------


def test_spec_examples_parse() -> None:
    assert names(check_requirements("requests, httpx==0.27")) == ["requests", "httpx==0.27"]
    assert names(check_requirements("  a ,, b,  ")) == ["a", "b"]
    assert check_requirements("") == []
    assert check_requirements(" , ,") == []


def test_extras_specifiers_and_markers_allowed() -> None:
    reqs = check_requirements('requests[socks]>=2.30, numpy; python_version >= "3.8", x~=1.2')
    assert [r.name for r in reqs] == ["requests", "numpy", "x"]
    assert reqs[0].extras == {"socks"}


def test_false_markers_are_dropped() -> None:
    assert names(check_requirements('pkg; python_version < "3", other')) == ["other"]
    assert names(check_requirements('pkg; sys_platform == "no-such-platform"')) == []


def test_duplicates_are_kept() -> None:
    assert names(check_requirements("requests, requests, requests")) == ["requests"] * 3


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("--index-url http://evil", "pip option"),
        ("-e .", "pip option"),
        ("-r requirements.txt", "pip option"),
        ("requests; rm -rf /", "not an environment marker"),
        ("$(curl x)", "command substitution"),
        ("`id`", "command substitution"),
        ("pkg${IFS}x", "command substitution"),
        ("pkg @ https://x/y.whl", "direct reference"),
        ("pkg @ file:///tmp/pkg", "direct reference"),
        ("./local", "path or URL"),
        ("/abs/pkg", "path or URL"),
        ("file:pkg", "path or URL"),
        ("https://x/y.whl", "path or URL"),
        ("foo\nbar", "line break"),
        ("a | b", "'|'"),
        ("a && b", "'&'"),
        ("<0.28", "without a package name"),
        ("not a requirement!", "not a valid PEP 508"),
    ],
)
def test_hostile_and_invalid_entries_are_refused(text: str, why: str) -> None:
    with pytest.raises(RequirementError) as caught:
        check_requirements(f"requests, {text}")
    message = str(caught.value)
    assert repr(text) in message or repr(text.strip()) in message, message
    assert why in message, message
    assert caught.value.entry == text.strip()
    assert isinstance(caught.value, ValueError)


def test_named_only_message_for_references() -> None:
    for text in ("pkg @ https://x/y.whl", "./local"):
        with pytest.raises(RequirementError, match="installs only named packages"):
            check_requirements(text)


def test_newline_inside_an_entry_is_refused() -> None:
    # Leading/trailing newlines are stripped like any whitespace; an inner one is refused.
    assert names(check_requirements("requests,\nfoo\n")) == ["requests", "foo"]
    with pytest.raises(RequirementError, match="line break"):
        check_requirements("foo\nbar")


# --- installed state -----------------------------------------------------------------


def test_satisfied_requirements_are_not_missing() -> None:
    assert missing_requirements(check_requirements("pydantic>=2, Pydantic_Core, packaging")) == []
    missing = missing_requirements(["pydantic>=2", "tuichat-no-such-package-xyz"])
    assert names(missing) == ["tuichat-no-such-package-xyz"]


async def test_satisfied_requirements_cost_no_pip_call(no_subprocess: None) -> None:
    result = await install(check_requirements("pydantic>=2, textual, pydantic>=2"))
    assert result.ok and not result.ran_pip and result.returncode is None


def test_prerelease_versions_count(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = reqmod._installed()
    pydantic = installed["pydantic"].version
    assert missing_requirements([f"pydantic=={pydantic}"]) == []
    assert reqmod._contains(Requirement("x>=1.0").specifier, "2.0rc1")


def test_only_tuichats_own_requirements_are_held_to_compatible_ranges() -> None:
    protected = protected_distributions()
    assert {"textual", "pydantic", "packaging", "fastapi", "requests", "pip"} <= set(protected)
    # Not the packages under them: a pipe's SDK may move those (pip keeps them consistent).
    assert not {"pydantic-core", "rich", "starlette", "typing-extensions"} & set(protected)
    assert "pytest" not in protected  # extras of tuichat (test) are not part of it
    text = constraints_text(protected)
    assert "pydantic<3,>=2\n" in text and "textual<9,>=8.2\n" in text
    major = int(protected["packaging"].version.split(".")[0])
    assert f"packaging<{major + 1},>=23\n" in text  # declared >=23, held within the installed major
    assert "==" not in text.replace("tuichat==", "")


def test_a_pin_within_tuichats_range_is_no_conflict() -> None:
    """An older packaging for a pipe's langchain is pip's to resolve (and the user's to agree to)."""
    check_conflicts(["packaging==23.2", "pydantic==2.9.0", "rich<1"])


@pytest.mark.parametrize("text", ["pydantic<2", "textual==0.0.1", "pydantic~=1.10"])
async def test_conflicts_are_refused_before_pip(text: str, no_subprocess: None) -> None:
    protected = protected_distributions()
    name = Requirement(text).name
    with pytest.raises(RequirementConflict) as caught:
        await install(check_requirements(text))
    message = str(caught.value)
    assert text in message and protected[name].version in message and "tuichat" in message
    assert caught.value.name == name and caught.value.installed == protected[name].version
    with pytest.raises(RequirementConflict, match="would break it"):
        check_conflicts([text])


def test_pydantic_conflict_message_wording() -> None:
    with pytest.raises(RequirementConflict, match=r"tuichat itself runs on pydantic 2\.x"):
        check_conflicts(["pydantic<2"])


def test_compatible_protected_requirement_is_no_conflict() -> None:
    check_conflicts(["pydantic>=2", "textual", "pydantic[email]"])


def test_pip_command_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_OPTIONS", "--quiet  --no-cache-dir")
    monkeypatch.setenv("PIP_PACKAGE_INDEX_OPTIONS", "--index-url http://mirror --trusted-host mirror")
    command = pip_command([Requirement("httpx==0.27"), "requests"], "/tmp/c.txt")
    assert command == [
        sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "-c", "/tmp/c.txt",
        "httpx==0.27", "requests", "--index-url", "http://mirror", "--trusted-host", "mirror",
    ]


# --- offline -----------------------------------------------------------------------------


async def test_offline_installs_nothing(monkeypatch: pytest.MonkeyPatch, no_subprocess: None) -> None:
    result = await install(["tuichat-no-such-package-xyz"], offline=True)
    assert not result.ok and not result.ran_pip
    assert "installs are off" in result.message and "tuichat-no-such-package-xyz" in result.message
    assert result.requested == ("tuichat-no-such-package-xyz",)

    monkeypatch.setenv("TUICHAT_OFFLINE", "1")
    assert not installs_allowed()
    result = await install(["tuichat-no-such-package-xyz"])
    assert not result.ok and "installs are off" in result.message
    monkeypatch.setenv("TUICHAT_OFFLINE", "0")
    assert installs_allowed()


# --- real pip runs -------------------------------------------------------------------------


async def test_install_local_wheel(local_index: Path, package_name: str) -> None:
    build_wheel(local_index, package_name)
    lines: list[str] = []
    try:
        result = await install(check_requirements(f"{package_name}>=1.0"), on_line=lines.append)
        assert result.ok and result.returncode == 0 and result.ran_pip, result.output_tail
        assert any("Successfully installed" in line and package_name.replace("_", "-") in line.replace("_", "-")
                   for line in lines), lines
        assert result.output_tail == tuple(lines[-len(result.output_tail):])
        assert "-c" in result.command
        module = importlib.import_module(package_name)
        assert module.VALUE == 42
        # Now satisfied: a second install costs no pip call.
        again = await install([package_name])
        assert again.ok and not again.ran_pip
    finally:
        uninstall(package_name)


async def test_failed_install_reports_pip_error(local_index: Path, package_name: str) -> None:
    lines: list[str] = []
    result = await install([package_name], on_line=lines.append)
    assert not result.ok and result.returncode not in (0, None)
    tail = "\n".join(result.output_tail)
    assert "No matching distribution" in tail or "Could not find a version" in tail, tail
    assert lines and lines[-len(result.output_tail):] == list(result.output_tail)
    assert package_name in result.message and "exit code" in result.message


async def test_transitive_conflict_is_refused_by_pip(
    local_index: Path, package_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The package itself is fine, but it needs pydantic<2 and a (fake) pydantic 1.0 is on
    # offer: only the constraints file stops pip from replacing tuichat's pydantic.
    # --dry-run keeps the environment safe even if that protection failed.
    build_wheel(local_index, package_name, requires=("pydantic<2",))
    build_wheel(local_index, "pydantic")
    monkeypatch.setenv("PIP_OPTIONS", "--dry-run")
    before = protected_distributions()["pydantic"].version
    lines: list[str] = []
    result = await install([package_name], on_line=lines.append)
    assert not result.ok, result.output_tail
    tail = "\n".join(result.output_tail)
    assert "conflicting dependencies" in tail or "ResolutionImpossible" in tail, tail
    assert "without changing packages tuichat depends on" in result.message
    assert "depends on pydantic<2" in result.message and "In the way: tuichat's own requirement pydantic<3,>=2" in result.message
    assert "tuichat of its own" in result.message  # what the user can do
    assert reqmod._installed()["pydantic"].version == before


async def test_dry_run_without_constraints_would_downgrade(
    local_index: Path, package_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control for the test above: with no pins, pip would take the fake pydantic 1.0.
    build_wheel(local_index, package_name, requires=("pydantic<2",))
    build_wheel(local_index, "pydantic")
    monkeypatch.setenv("PIP_OPTIONS", "--dry-run")
    monkeypatch.setattr(pipmod, "constraints_text", lambda protected=None: "")
    declined = await install([package_name])
    assert not declined.ok and declined.declined and not declined.ran_pip
    assert [str(c) for c in declined.changes] == [f"pydantic {reqmod._installed()['pydantic'].version} -> 1.0 (downgrade)"]
    result = await install([package_name], assume_yes=True)
    assert result.ok, result.output_tail
    assert any("Would install" in line and "pydantic-1.0" in line for line in result.output_tail), result.output_tail


async def test_cancel_terminates_pip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TUICHAT_OFFLINE", raising=False)
    started: list[asyncio.subprocess.Process] = []
    real_exec = asyncio.create_subprocess_exec

    async def spy(*args: object, **kwargs: object) -> asyncio.subprocess.Process:
        process = await real_exec(*args, **kwargs)  # type: ignore[arg-type]
        started.append(process)
        return process

    # A stand-in for a slow pip, so the test needs no network.
    slow = [sys.executable, "-c", "import time; print('working', flush=True); time.sleep(60)"]
    monkeypatch.setattr(pipmod, "pip_command", lambda reqs, constraints: slow)
    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    first_line = asyncio.Event()
    task = asyncio.create_task(install(["tuichat-no-such-package-xyz"], on_line=lambda _: first_line.set()))
    await asyncio.wait_for(first_line.wait(), timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert started and started[0].returncode is not None


# --- missing modules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "distribution"),
    [
        ("PIL", "pillow"),
        ("PIL.Image", "pillow"),
        ("google.genai", "google-genai"),
        ("google.genai.types", "google-genai"),
        ("google.generativeai", "google-generativeai"),
        ("google.protobuf", "protobuf"),
        ("dotenv", "python-dotenv"),
        ("yaml", "pyyaml"),
        ("cv2", "opencv-python"),
        ("sklearn", "scikit-learn"),
        ("bs4", "beautifulsoup4"),
        ("fitz", "pymupdf"),
        ("jwt", "PyJWT"),
        ("git", "GitPython"),
        ("attr", "attrs"),
        ("websocket", "websocket-client"),
        ("duckduckgo_search", "duckduckgo-search"),
        ("openai", "openai"),
        ("foo_bar", "foo-bar"),
        ("foo_bar.baz", "foo-bar"),
        ("google.cloud.storage", "google-cloud-storage"),
        ("open_webui.retrieval", None),
        ("open_webui", None),
        ("google", None),
        ("tkinter", None),
    ],
)
def test_distribution_for_module(module: str, distribution: str | None) -> None:
    assert distribution_for_module(module) == distribution


def _raise_missing(name: str) -> BaseException:
    try:
        try:
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        except ModuleNotFoundError as exc:
            raise RuntimeError("loading the pipe failed") from exc
    except RuntimeError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    ("name", "distribution"),
    [("PIL", "pillow"), ("google.genai", "google-genai"), ("dotenv", "python-dotenv"), ("yaml", "pyyaml"), ("foo_bar", "foo-bar")],
)
def test_diagnose_walks_causes(name: str, distribution: str) -> None:
    found = diagnose(_raise_missing(name), file="pipe.py")
    assert isinstance(found, MissingModule)
    assert (found.module, found.distribution) == (name, distribution)
    assert f"imports {name!r}" in found.message and f"{distribution!r} distribution" in found.message
    assert "tuichat pipes add pipe.py --install-missing" in found.message
    assert f"-m pip install {distribution}" in found.message
    assert found.pip_args == [distribution]


def test_diagnose_pil_message() -> None:
    found = diagnose(_raise_missing("PIL"))
    assert found is not None
    assert found.message.startswith(
        "the pipe imports 'PIL', which is not installed; it comes from the 'pillow' distribution. "
        "Install it with `tuichat pipes add FILE --install-missing`, or `"
    )


def test_diagnose_context_and_real_import() -> None:
    try:
        try:
            import tuichat_surely_missing_module  # noqa: F401
        except ImportError:
            raise ValueError("while handling")
    except ValueError as exc:
        found = diagnose(exc)
    assert found is not None and found.distribution == "tuichat-surely-missing-module"


def test_diagnose_message_without_name() -> None:
    found = diagnose(ModuleNotFoundError("No module named 'yaml'"))
    assert found is not None and found.distribution == "pyyaml"


def test_diagnose_namespace_from_import_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With no google package at all Python reports just 'google'; the import line says more.
    monkeypatch.setitem(sys.modules, "google", None)  # behave as if google is not installed
    source = tmp_path / "tuichat_ns_probe.py"
    source.write_text("from google import genai\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError) as caught:
        importlib.import_module("tuichat_ns_probe")
    sys.modules.pop("tuichat_ns_probe", None)
    found = diagnose(caught.value)
    assert found is not None and found.distribution == "google-genai", found


def test_diagnose_ignores_open_webui_and_other_errors() -> None:
    assert diagnose(_raise_missing("open_webui.retrieval")) is None
    assert diagnose(ValueError("nope")) is None
    assert diagnose(ImportError("cannot import name 'x' from 'y'", name="y")) is None


def test_failure_message_blames_tuichat_only_for_its_pins() -> None:
    tail = (
        "ERROR: Cannot install a==1.0 and b==1.0 because these package versions have conflicting dependencies.",
        "",
        "The conflict is caused by:",
        "    a 1.0 depends on c<1",
        "    b 1.0 depends on c>=2",
        "",
        "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/",
    )
    message = pipmod._failure_message("a, b", 1, tail)
    assert message == "pip found conflicting requirements while installing a, b: a 1.0 depends on c<1; b 1.0 depends on c>=2"


def test_diagnose_exception_group() -> None:
    group = ExceptionGroup("several", [ValueError("x"), ModuleNotFoundError("No module named 'cv2'", name="cv2")])
    found = diagnose(group)
    assert found is not None and found.distribution == "opencv-python"
