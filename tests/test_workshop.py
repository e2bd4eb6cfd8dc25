"""The pipe workshop's runtime: saving edits, versions, templates, duplicates and live reload.

Real SQLite files, real pipe loading, real files on disk; the CLI commands run as
real subprocesses.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import ok, tuichat
from tests.test_examples import ask
from tuichat.runtime.errors import FunctionLoadError
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary, FunctionNotFound, SourceError
from tuichat.runtime.loading.requirements import RequirementError
from tuichat.runtime.watch import FileWatch, Watcher, WatchReport, link_file, sync_file
from tuichat.store import Store
from tuichat.store.schema import MIGRATIONS, statements

ANSWER = 'class Pipe:\n    def pipe(self, body):\n        return "{}"\n'
BROKEN = 'class Pipe:\n    def pipe(self, body):\n        return "oops" +\n'
INIT_FAILS = """class Pipe:
    def __init__(self):
        self.ready = True
        raise RuntimeError("no config")

    def pipe(self, body):
        return "never"
"""
# The counter lives in `builtins`, so it is shared by every module a load creates.
COUNTED = """import builtins
import itertools

BUILT = builtins.__dict__.setdefault("tuichat_test_instances", itertools.count())


class Pipe:
    def __init__(self):
        self.number = next(BUILT)

    def pipe(self, body):
        return f"instance {{self.number}} says {}"
"""


async def added(library: FunctionLibrary, fid: str, text: str) -> None:
    await library.add(text, function_id=fid)


# -- saving ------------------------------------------------------------------------------
async def test_a_good_save_serves_at_once_and_is_kept_as_a_version(host: PipeHost, library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("one"))
    assert (await ask(host, "p", "hi")).content == "one"
    saved = await library.save_source("p", ANSWER.format("two"))
    assert saved.changed and saved.problem is None
    assert (await ask(host, "p", "hi")).content == "two"
    versions = await library.versions("p")
    assert [(v.origin, v.error) for v in versions] == [("saved", None), ("created", None)]
    assert versions[0].content == ANSWER.format("two") and versions[1].content == ANSWER.format("one")


async def test_saving_the_same_source_twice_changes_nothing(library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("one"))
    before = await library.get("p")
    saved = await library.save_source("p", ANSWER.format("one"))
    assert not saved.changed and saved.row == before
    assert len(await library.versions("p")) == 1


async def test_a_save_builds_exactly_one_new_instance(host: PipeHost, library: FunctionLibrary) -> None:
    """Open WebUI keeps the instance its update built; loading it twice would run __init__ twice."""
    import builtins

    builtins.__dict__.pop("tuichat_test_instances", None)
    try:
        await added(library, "c", COUNTED.format("a"))
        first = (await ask(host, "c", "x")).content
        await library.save_source("c", COUNTED.format("b"))
        second = (await ask(host, "c", "x")).content
        third = (await ask(host, "c", "x")).content
    finally:
        builtins.__dict__.pop("tuichat_test_instances", None)
    assert first == "instance 0 says a"
    assert second == third == "instance 1 says b"  # one new instance, built by the save, then reused


async def test_a_syntax_error_is_refused_with_its_line_and_kept_as_a_version(host: PipeHost, library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("good"))
    with pytest.raises(FunctionLoadError) as caught:
        await library.save_source("p", BROKEN)
    assert caught.value.line == 3 and caught.value.column is not None and caught.value.column > 1
    assert "SyntaxError" in str(caught.value) and "line 3" in str(caught.value)
    row = await library.get("p")
    assert row.content == ANSWER.format("good") and row.is_active and row.load_error is None
    assert (await ask(host, "p", "hi")).content == "good"  # the last good source keeps serving
    refused = (await library.versions("p"))[0]
    assert refused.content == BROKEN and refused.origin == "saved" and "SyntaxError" in (refused.error or "")
    # The same refused text saved again is not recorded twice.
    with pytest.raises(FunctionLoadError):
        await library.save_source("p", BROKEN)
    assert len(await library.versions("p")) == 2


async def test_an_error_in_init_points_at_its_line(library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("good"))
    with pytest.raises(FunctionLoadError) as caught:
        await library.save_source("p", INIT_FAILS)
    assert caught.value.line == 4
    assert "RuntimeError: no config" in str(caught.value) and 'raise RuntimeError("no config")' in caught.value.detail


async def test_a_bad_requirement_or_empty_source_is_refused_and_kept(library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("good"))
    bad = '"""\nrequirements: requests; rm -rf /\n"""\n' + ANSWER.format("x")
    with pytest.raises(RequirementError):
        await library.save_source("p", bad)
    with pytest.raises(SourceError, match="empty"):
        await library.save_source("p", "   \n")
    contents = [v.content for v in await library.versions("p")]
    assert bad in contents and (await library.get("p")).content == ANSWER.format("good")


async def test_a_function_switched_off_by_an_error_comes_back_on_but_not_one_switched_off_by_hand(library: FunctionLibrary, store: Store) -> None:
    await added(library, "p", ANSWER.format("one"))
    await store.functions.update("p", is_active=False, load_error="it broke")
    saved = await library.save_source("p", ANSWER.format("two"))
    assert saved.row.is_active and saved.row.load_error is None
    await library.disable("p")
    saved = await library.save_source("p", ANSWER.format("three"))
    assert not saved.row.is_active


async def test_frontmatter_updates_name_and_meta(library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("one"))
    saved = await library.save_source("p", '"""\ntitle: Renamed\nversion: 2.0\n"""\n' + ANSWER.format("x"))
    assert saved.row.name == "Renamed" and saved.row.meta["manifest"]["version"] == "2.0"


async def test_a_failed_install_stores_the_source_inactive(library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch) -> None:
    # As Open WebUI does, the module is loaded anyway: only one that needs what was not
    # installed is stored off, with the reason.
    monkeypatch.setenv("TUICHAT_OFFLINE", "1")
    await added(library, "p", ANSWER.format("one"))
    needs = '"""\nrequirements: tuichat-no-such-package-xyz\n"""\nimport tuichat_no_such_package_xyz\n' + ANSWER.format("two")
    assert await library.missing_for(needs) == ["tuichat-no-such-package-xyz"]
    saved = await library.save_source("p", needs)
    assert saved.problem and "requirements not installed" in saved.problem
    row = await library.get("p")
    assert row.content == needs and not row.is_active and row.load_error == saved.problem


async def test_requirements_not_installed_leave_a_pipe_that_loads_without_them_on(
    library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUICHAT_OFFLINE", "1")
    await added(library, "p", ANSWER.format("one"))
    optional = '"""\nrequirements: tuichat-no-such-package-xyz\n"""\n' + ANSWER.format("two")
    saved = await library.save_source("p", optional)
    assert saved.problem is None and saved.warning and "It loads without them, so it is on." in saved.warning
    row = await library.get("p")
    assert row.content == optional and row.is_active and not row.load_error


# -- versions ----------------------------------------------------------------------------
async def test_restore_saves_an_old_version_again(host: PipeHost, library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("one"))
    await library.save_source("p", ANSWER.format("two"))
    first = (await library.versions("p"))[-1]
    saved = await library.restore("p", first.number)
    assert saved.changed and (await ask(host, "p", "hi")).content == "one"
    assert [v.origin for v in await library.versions("p")] == ["restored", "saved", "created"]


async def test_restore_refuses_another_functions_version(library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("one"))
    await added(library, "q", ANSWER.format("two"))
    await library.save_source("q", ANSWER.format("three"))
    with pytest.raises(FunctionNotFound, match=r"'p' has no version #2\. Run `tuichat pipes versions p`"):
        await library.restore("p", 2)  # q has a #2; p has only #1


async def test_a_new_functions_versions_are_numbered_from_one(library: FunctionLibrary, db_path: Path) -> None:
    await added(library, "p", ANSWER.format("one"))
    await library.save_source("p", ANSWER.format("two"))
    await library.create("fresh")  # other functions' versions came first: still #1
    await library.save_source("fresh", ANSWER.format("mine"))
    assert [v.number for v in await library.versions("fresh")] == [2, 1]
    assert [v.number for v in await library.versions("p")] == [2, 1]
    assert (await library.restore("fresh", 1)).changed and "title: New Pipe" in (await library.get("fresh")).content
    listed = json.loads(ok(tuichat(db_path, "pipes", "versions", "fresh", "--json")).stdout)
    assert [v["version"] for v in listed] == [3, 2, 1] and [v["origin"] for v in listed] == ["restored", "saved", "created"]


async def test_deleting_a_function_deletes_its_versions(library: FunctionLibrary, db_path: Path) -> None:
    await added(library, "p", ANSWER.format("one"))
    await library.remove("p")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM function_version WHERE function_id = 'p'").fetchone() == (0,)


async def test_a_v2_database_gets_each_function_as_its_first_version(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        for statement in statements(script):
            conn.execute(statement)
    conn.execute(
        "INSERT INTO function (id, name, type, content, meta, created_at, updated_at) VALUES (?, ?, 'pipe', ?, '{}', 100, 200)",
        ("old", "Old", ANSWER.format("old")),
    )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    store = await Store.open(path)
    try:
        versions = await store.functions.versions("old")
        assert [(v.content, v.origin, v.created_at) for v in versions] == [(ANSWER.format("old"), "stored", 200)]
        assert (await store.functions.get("old")).linked_path is None  # type: ignore[union-attr]
    finally:
        await store.close()


# -- templates and duplicates ------------------------------------------------------------
@pytest.mark.parametrize("template", ["pipe", "manifold"])
async def test_templates_load_and_answer(host: PipeHost, library: FunctionLibrary, template: str) -> None:
    row = await library.create("fresh", template=template, name="My Pipe")
    assert row.is_active and row.load_error is None and row.name == "My Pipe"
    listing = await host.list_models()
    models = [m["id"] for m in listing.models if m["id"].split(".")[0] == "fresh"]
    if template == "pipe":
        assert models == ["fresh"]
        reply = await ask(host, "fresh", "hello")
        assert reply.content.strip() == "Hello! You said: hello"
    else:
        assert models == ["fresh.small", "fresh.large"]
        assert (await ask(host, "fresh.large", "hello")).content == "**large** heard: hello"


async def test_an_unknown_template_is_named(library: FunctionLibrary) -> None:
    with pytest.raises(SourceError, match="templates are: pipe, manifold"):
        await library.create("x", template="nope")


async def test_duplicate_copies_under_a_free_clone_id(host: PipeHost, library: FunctionLibrary) -> None:
    await added(library, "p", ANSWER.format("one"))
    first = await library.duplicate("p")
    second = await library.duplicate("p")
    assert (first.id, second.id) == ("p_clone", "p_clone_2")
    assert first.content == (await library.get("p")).content and first.name.endswith("(Clone)")
    assert (await ask(host, "p_clone", "x")).content == "one"
    assert [v.origin for v in await library.versions("p_clone")] == ["duplicated"]


# -- live reload -------------------------------------------------------------------------
async def test_link_file_creates_a_function_even_from_a_broken_file(library: FunctionLibrary, tmp_path: Path) -> None:
    path = tmp_path / "my-pipe.py"
    path.write_text(BROKEN)
    row, report = await link_file(library, path)
    assert row.id == "my_pipe" and row.linked_path == str(path.resolve())
    assert not row.is_active and "SyntaxError" in (row.load_error or "")
    assert not report.ok and report.line == 3
    path.write_text(ANSWER.format("alive"))
    report = await sync_file(library, row.id, path)
    assert report.ok and report.changed
    row = await library.get("my_pipe")
    assert row.is_active and row.load_error is None


async def test_sync_file_reports_unreadable_and_non_utf8_files(library: FunctionLibrary, tmp_path: Path) -> None:
    await added(library, "p", ANSWER.format("one"))
    gone = await sync_file(library, "p", tmp_path / "missing.py")
    assert not gone.ok and "cannot read" in gone.message and "last good version" in gone.message
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# caf\xe9\n" + ANSWER.format("x").encode())
    bad = await sync_file(library, "p", latin)
    assert not bad.ok and "not UTF-8" in bad.message
    assert (await library.get("p")).content == ANSWER.format("one")


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


async def test_a_watched_file_reloads_on_save_and_a_broken_save_keeps_the_last_good(host: PipeHost, library: FunctionLibrary, tmp_path: Path) -> None:
    path = tmp_path / "live.py"
    path.write_text(ANSWER.format("v1"))
    row, _ = await link_file(library, path)
    reports: list[WatchReport] = []
    watch = FileWatch(library, row.id, path, reports.append, interval=0.02)
    task = asyncio.create_task(watch.run())
    try:
        path.write_text(ANSWER.format("v2 is longer"))  # a new size, so the change shows at once
        await until(lambda: len(reports) == 1)
        assert reports[0].ok and reports[0].changed
        assert (await ask(host, "live", "hi")).content == "v2 is longer"
        path.write_text(BROKEN)
        await until(lambda: len(reports) == 2)
        assert not reports[1].ok and reports[1].line == 3 and "SyntaxError" in reports[1].message
        assert (await ask(host, "live", "hi")).content == "v2 is longer"
        # An editor that saves by writing a new file and renaming it over the old one.
        replacement = tmp_path / ".live.py.swp"
        replacement.write_text(ANSWER.format("v3"))
        replacement.replace(path)
        await until(lambda: len(reports) == 3)
        assert reports[2].ok and (await ask(host, "live", "hi")).content == "v3"
        path.unlink()
        await until(lambda: len(reports) == 4)
        assert not reports[3].ok and "is gone" in reports[3].message
        assert (await ask(host, "live", "hi")).content == "v3"
    finally:
        task.cancel()


async def test_a_save_in_tuichat_writes_the_linked_file(host: PipeHost, library: FunctionLibrary, tmp_path: Path) -> None:
    path = tmp_path / "live.py"
    path.write_text(ANSWER.format("v1"))
    path.chmod(0o640)
    row, _ = await link_file(library, path)
    reports: list[WatchReport] = []
    watch = FileWatch(library, row.id, path, reports.append, interval=0.02)
    await watch.check()  # the first look syncs

    saved = await library.save_source("live", ANSWER.format("from the app"))
    assert saved.wrote == str(path.resolve()) and saved.file_error is None
    assert path.read_text() == ANSWER.format("from the app")
    assert path.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions
    assert not list(tmp_path.glob(".*tuichat-save"))  # no temporary file left
    await watch.check()
    assert reports == []  # read back as unchanged
    assert (await ask(host, "live", "hi")).content == "from the app"

    with pytest.raises(FunctionLoadError):  # a refused save leaves the file alone
        await library.save_source("live", BROKEN)
    assert path.read_text() == ANSWER.format("from the app")
    restored = await library.restore("live", (await library.versions("live"))[-1].number)
    assert restored.wrote and path.read_text() == ANSWER.format("v1")

    # A file that can no longer be written: the save stands, and the error says why and what to do.
    folder = tmp_path / "gone"
    folder.mkdir()
    (folder / "other.py").write_text(ANSWER.format("o1"))
    await link_file(library, folder / "other.py")
    (folder / "other.py").unlink()
    folder.rmdir()
    saved = await library.save_source("other", ANSWER.format("o2"))
    assert saved.wrote is None and saved.file_error is not None
    assert f"not written to {folder / 'other.py'}" in saved.file_error and "pipes unlink other" in saved.file_error
    assert (await ask(host, "other", "hi")).content == "o2"


async def test_the_watcher_follows_links_and_catches_up_on_start(host: PipeHost, library: FunctionLibrary, tmp_path: Path) -> None:
    path = tmp_path / "linked.py"
    path.write_text(ANSWER.format("v1"))
    await link_file(library, path)
    path.write_text(ANSWER.format("changed while closed"))  # as if edited while tuichat was not running
    reports: list[WatchReport] = []
    watcher = Watcher(library, reports.append, interval=0.02)
    try:
        await watcher.refresh()
        assert watcher.watched == {"linked": str(path.resolve())}
        assert reports and reports[0].ok
        assert (await ask(host, "linked", "hi")).content == "changed while closed"
        await library.link("linked", None)
        await watcher.refresh()
        assert watcher.watched == {}
    finally:
        await watcher.close()


# -- the CLI -----------------------------------------------------------------------------
def test_cli_new_versions_restore_duplicate(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    ok(tuichat(db, "pipes", "new", "mine", "--template", "manifold"))
    assert "mine.small" in ok(tuichat(db, "models")).stdout
    source = tmp_path / "mine.py"
    source.write_text(ANSWER.format("edited"))
    ok(tuichat(db, "pipes", "add", str(source), "--replace"))
    versions = json.loads(ok(tuichat(db, "pipes", "versions", "mine", "--json")).stdout)
    assert [v["origin"] for v in versions] == ["saved", "created"]
    ok(tuichat(db, "pipes", "restore", "mine", str(versions[1]["version"])))
    assert "mine.large" in ok(tuichat(db, "models")).stdout
    table = ok(tuichat(db, "pipes", "versions", "mine")).stdout
    assert "restored" in table and "current" in table
    missing = tuichat(db, "pipes", "restore", "mine", "99999")
    assert missing.returncode == 2 and "no version #99999" in missing.stderr
    assert "copied 'mine' to 'mine_clone'" in ok(tuichat(db, "pipes", "duplicate", "mine")).stdout


def test_cli_link_reports_a_broken_file_and_unlink(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    path = tmp_path / "linked.py"
    path.write_text(BROKEN)
    result = tuichat(db, "pipes", "link", str(path))
    assert result.returncode == 1 and "linked 'linked'" in result.stdout and "line 3" in result.stderr
    path.write_text(ANSWER.format("fixed"))
    ok(tuichat(db, "pipes", "link", str(path)))
    assert ok(tuichat(db, "run", "linked", "hi", "--no-save")).stdout.strip() == "fixed"
    path.write_text(ANSWER.format("second"))
    ok(tuichat(db, "pipes", "link", str(path)))
    newest_first = [int(line.split()[0]) for line in ok(tuichat(db, "pipes", "versions", "linked")).stdout.splitlines()[1:]]
    restored = ok(tuichat(db, "pipes", "restore", "linked", str(newest_first[1])))  # "fixed", written back
    assert f"wrote {path.resolve()}" in restored.stdout and path.read_text() == ANSWER.format("fixed")
    assert "no longer linked" in ok(tuichat(db, "pipes", "unlink", "linked")).stdout


def save_whole(path: Path, text: str) -> None:
    spare = path.with_suffix(".saving")
    spare.write_text(text)
    spare.replace(path)


def test_cli_watch_prints_each_reload(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.test_cli import cli_env

    db = tmp_path / "cli.db"
    path = tmp_path / "watched.py"
    path.write_text(ANSWER.format("v1"))
    process = subprocess.Popen(
        [sys.executable, "-m", "tuichat", "--db", str(db), "pipes", "watch", str(path), "--interval", "0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=cli_env(),
    )
    try:
        assert process.stdout is not None
        assert "watching" in process.stdout.readline()
        assert "unchanged" in process.stdout.readline()
        # Saved whole, as an editor saves: a plain write_text truncates first, and a poll
        # between the truncation and the write (a loaded machine) would see an empty file.
        save_whole(path, ANSWER.format("v2 longer"))
        assert "reloaded 'watched'" in process.stdout.readline()
        save_whole(path, BROKEN)
        line = process.stdout.readline()
        assert "error:" in line and "SyntaxError" in line
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert ok(tuichat(db, "run", "watched", "hi", "--no-save")).stdout.strip() == "v2 longer"


async def test_a_save_just_before_the_watch_starts_is_not_missed(host: PipeHost, library: FunctionLibrary, tmp_path: Path) -> None:
    path = tmp_path / "early.py"
    path.write_text(ANSWER.format("v1"))
    row, _ = await link_file(library, path)
    path.write_text(ANSWER.format("saved before watching"))  # after the sync, before the watch
    reports: list[WatchReport] = []
    watch = FileWatch(library, row.id, path, reports.append, interval=0.02)
    await watch.check()
    assert [r.ok for r in reports] == [True]
    assert (await ask(host, "early", "hi")).content == "saved before watching"
    await watch.check()  # nothing new: no second report
    assert len(reports) == 1
