"""Adding functions that need packages: requirements, missing modules, offline, conflicts,
and moving functions to and from Open WebUI's functions export JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.wheels import build_wheel, uninstall
from tuichat.runtime.errors import FunctionDisabled, FunctionLoadError
from tuichat.runtime.host import PipeHost
from tuichat.runtime.importing import ImportRefused
from tuichat.runtime.library import EXPORT_FIELDS, FunctionLibrary, InstallPolicy
from tuichat.runtime.loading.requirements import RequirementConflict, RequirementError
from tuichat.store import Store


def needs(package: str, *, declared: bool = True) -> str:
    header = f'"""\ntitle: Needs {package}\nrequirements: {package}\n"""\n' if declared else ""
    return header + f"import {package}\n\nclass Pipe:\n    def pipe(self, body):\n        return f'value={{{package}.VALUE}}'\n"


async def answer(host: PipeHost, model: str) -> str:
    from tests.tracing import collect
    from tuichat.runtime.host import make_body
    from tuichat.runtime.reply.builder import reply_from_steps

    invocation = await host.invoke(model, make_body(model, [{"role": "user", "content": "hi"}], stream=False))
    return reply_from_steps(await collect(invocation)).content


async def test_declared_requirement_is_installed_from_a_local_wheel(
    library: FunctionLibrary, host: PipeHost, local_index: Path, package_name: str
) -> None:
    build_wheel(local_index, package_name)
    lines: list[str] = []
    try:
        added = await library.add(needs(package_name), function_id="needy", policy=InstallPolicy(on_line=lines.append))
        assert added.installed == [package_name] and added.problem is None and added.row.is_active
        assert any("Successfully installed" in line for line in lines)
        assert await answer(host, "needy") == "value=42"
    finally:
        uninstall(package_name)


async def test_a_failed_install_stores_the_function_disabled_with_pips_error(
    library: FunctionLibrary, host: PipeHost, local_index: Path, package_name: str
) -> None:
    added = await library.add(needs(package_name), function_id="needy")
    assert not added.row.is_active and added.problem is not None
    assert package_name.replace("_", "-") in added.problem.lower() or package_name in added.problem
    row = await library.get("needy")
    assert row.load_error == added.problem and "No matching distribution" in row.load_error
    with pytest.raises(FunctionDisabled, match="requirements not installed"):
        await host.invoke("needy", {"messages": [], "stream": False})
    # Once the package can be had, enabling installs it and activates the function.
    build_wheel(local_index, package_name)
    try:
        row = await library.enable("needy")
        assert row.is_active and row.load_error is None
        assert await answer(host, "needy") == "value=42"
    finally:
        uninstall(package_name)


async def test_offline_installs_nothing_and_says_so(
    library: FunctionLibrary, no_subprocess: None, package_name: str
) -> None:
    added = await library.add(needs(package_name), function_id="needy", policy=InstallPolicy(offline=True))
    assert not added.row.is_active
    assert added.problem is not None and "installs are off" in added.problem and package_name in added.problem.replace("-", "_")


async def test_an_undeclared_missing_module_is_named_and_nothing_is_stored(
    library: FunctionLibrary, store: Store, package_name: str, no_subprocess: None
) -> None:
    with pytest.raises(FunctionLoadError) as info:
        await library.add(needs(package_name, declared=False), function_id="needy", source="needy.py")
    message = str(info.value)
    assert f"No module named '{package_name}'" in message
    assert f"'{package_name.replace('_', '-')}' distribution" in message
    assert "tuichat pipes add needy.py --install-missing" in message
    assert await store.functions.get("needy") is None


async def test_install_missing_installs_and_loads_again(
    library: FunctionLibrary, host: PipeHost, local_index: Path, package_name: str
) -> None:
    build_wheel(local_index, package_name)
    try:
        added = await library.add(
            needs(package_name, declared=False), function_id="needy", policy=InstallPolicy(install_missing=True)
        )
        assert added.installed == [package_name.replace("_", "-")] and added.row.is_active
        assert await answer(host, "needy") == "value=42"
    finally:
        uninstall(package_name)


@pytest.mark.parametrize(
    ("requirements", "error"),
    [("pydantic<2", RequirementConflict), ("requests, --index-url http://evil", RequirementError), ("x; rm -rf /", RequirementError)],
)
async def test_bad_requirements_store_nothing(
    library: FunctionLibrary, store: Store, no_subprocess: None, requirements: str, error: type[Exception]
) -> None:
    source = f'"""\nrequirements: {requirements}\n"""\nclass Pipe:\n    def pipe(self, body):\n        return "x"\n'
    with pytest.raises(error):
        await library.add(source, function_id="bad")
    assert await store.functions.get("bad") is None


async def test_a_syntax_error_is_reported_before_anything_is_installed(library: FunctionLibrary, no_subprocess: None) -> None:
    source = '"""\nrequirements: some-package\n"""\nclass Pipe:\n    def pipe(self, body)\n        return 1\n'
    with pytest.raises(FunctionLoadError, match=r"SyntaxError: expected ':' \(line 5, column 25\)"):
        await library.add(source, function_id="bad")


FILTER = "class Filter:\n    def inlet(self, body):\n        return body\n"


async def test_export_then_import_round_trip(library: FunctionLibrary, tmp_path: Path) -> None:
    await library.seed_examples()
    await library.add(FILTER, function_id="tidy")
    await library.store.functions.update("tidy", is_global=True)
    await library.disable("events")
    exported = await library.export_all()
    assert [list(item) for item in exported] == [list(EXPORT_FIELDS)] * len(exported)
    json.dumps(exported)  # plain JSON, as Open WebUI's export is

    other = await Store.open(tmp_path / "other.db")
    try:
        async with PipeHost(other) as other_host:
            summary = await FunctionLibrary(other_host).import_all(json.loads(json.dumps(exported)))
        assert [(added.row.id, added.replaced) for added in summary.added] == [(f["id"], False) for f in exported]
        kept = ("id", "name", "type", "content", "meta", "is_active", "is_global")
        again = [{k: getattr(row, k) for k in kept} for row in await other.functions.list()]
        assert again == [{k: item[k] for k in kept} for item in exported]
    finally:
        await other.close()


async def test_import_is_all_or_nothing_and_lists_every_problem(library: FunctionLibrary, store: Store) -> None:
    items = [
        {"id": "good", "name": "Good", "content": "class Pipe:\n    def pipe(self, body):\n        return 'ok'\n"},
        {"id": "broken", "content": "class Pipe:\n    def pipe(self, body)\n"},
        {"name": "no id"},
        {"id": "Not Valid!", "content": "class Pipe: pass\n"},
    ]
    with pytest.raises(ImportRefused) as refused:
        await library.import_all(items, where="export.json")
    assert [(p.position, p.field) for p in refused.value.problems] == [
        (2, "content"), (3, "id"), (3, "content"), (4, "id"),
    ]
    text = str(refused.value)
    assert text.startswith("export.json: nothing was imported, because 3 of 4 functions have problems")
    assert "item 2 (id 'broken'), content: SyntaxError" in text
    assert "item 4, id: 'Not Valid!' is not a valid id" in text and "'not_valid'" in text
    assert await store.functions.get("good") is None  # the good one is not stored either
    summary = await library.import_all(items[:1])
    assert [added.row.name for added in summary.added] == ["Good"]


def test_cli_export_all_then_import(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "TUICHAT_OFFLINE": "1"}
    first, second, export = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "functions.json"

    def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tuichat", "--db", str(db), *args],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60, check=False,
        )

    dumped = cli(first, "pipes", "export", "--all")
    assert dumped.returncode == 0, dumped.stderr
    export.write_text(dumped.stdout)
    cli(second, "pipes", "list")  # seeds the examples, so importing must replace them
    refused = cli(second, "pipes", "import", str(export))
    assert refused.returncode == 1 and "already stored" in refused.stderr and "--replace" in refused.stderr
    imported = cli(second, "pipes", "import", str(export), "--replace")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.count("updated pipe") == 6  # the six examples
    listed = [json.loads(cli(db, "pipes", "list", "--json").stdout) for db in (first, second)]
    strip = lambda rows: [{k: r[k] for k in ("id", "name", "type", "is_active", "meta")} for r in rows]  # noqa: E731
    assert strip(listed[0]) == strip(listed[1])
    usage = cli(first, "pipes", "export")
    assert usage.returncode == 2 and "--all" in usage.stderr


def test_cli_install_flags(tmp_path: Path, package_name: str) -> None:
    index = tmp_path / "index"
    index.mkdir()
    build_wheel(index, package_name)
    pipe = tmp_path / "needy.py"
    pipe.write_text(needs(package_name, declared=False))
    declared = tmp_path / "declared.py"
    declared.write_text(needs(package_name))
    env = {"PATH": "/usr/bin:/bin", "PIP_PACKAGE_INDEX_OPTIONS": f"--no-index --find-links {index}"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tuichat", "--db", str(tmp_path / "t.db"), *args],
            capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120, check=False,
        )

    try:
        offline = cli("pipes", "add", str(declared), "--offline")
        assert offline.returncode == 1 and "stored but disabled" in offline.stderr and "installs are off" in offline.stderr
        hint = cli("pipes", "add", str(pipe))
        assert hint.returncode == 1 and f"tuichat pipes add {pipe} --install-missing" in hint.stderr
        added = cli("pipes", "add", str(pipe), "--install-missing")
        assert added.returncode == 0, added.stderr
        assert "  pip: " in added.stderr and "installed: " in added.stdout and "models: needy" in added.stdout
        assert cli("run", "needy", "hi").stdout == "value=42\n"
        enabled = cli("pipes", "enable", "declared")  # its requirement is now installed
        assert enabled.returncode == 0, enabled.stderr
    finally:
        uninstall(package_name)
