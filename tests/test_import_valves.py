"""Importing Open WebUI functions exports and setting valves from the CLI, end to end: real
`tuichat` processes on real SQLite files. An import is all or nothing: a file with any bad item
stores nothing and lists every problem (item, id, field, what is wrong, what to do), without a
traceback. NaN and Infinity, which JSON cannot hold, never reach the store."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import ok, query, tuichat

PIPES = Path(__file__).parent / "pipes"
EXAMPLES = {"echo", "manifold", "events", "ask", "markdown", "local"}
SOURCE = '"""\ntitle: Pipe {i}\n"""\nclass Pipe:\n    def pipe(self, body: dict) -> str:\n        return "{i}"\n'


def function(i: int, **fields: Any) -> dict[str, Any]:
    """One function as Open WebUI exports it."""
    item = {"id": f"p{i}", "user_id": "u1", "name": f"Pipe {i}", "type": "pipe", "content": SOURCE.format(i=i),
            "meta": {"description": None}, "is_active": True, "is_global": False, "updated_at": 1, "created_at": 1}
    return item | fields


def stored_ids(db: Path) -> set[str]:
    return {row[0] for row in query(db, "SELECT id FROM function")} - EXAMPLES


def write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "x.db"


def refused(db: Path, path: Path, *extra: str, status: int = 1) -> str:
    """Import `path`, expecting a refusal; returns stderr, once checked that nothing was stored."""
    result = tuichat(db, "pipes", "import", str(path), *extra)
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert stored_ids(db) == set()
    return result.stderr


def test_a_wrong_type_is_named_with_its_item_and_field_and_nothing_is_stored(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "export.json", [function(1), function(2, name=5), function(3, is_active="yes")])
    stderr = refused(db, path)
    assert f"{path}: nothing was imported, because 2 of 3 functions have problems" in stderr
    assert "item 2 (id 'p2'), name: is a number (5), not a string; write the name in double quotes" in stderr
    assert "item 3 (id 'p3'), is_active: is a string (\"yes\"), not true or false; use true or false" in stderr
    assert "TypeError" not in stderr


def test_items_that_are_not_functions_and_missing_fields(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "export.json", [function(1), "p2", {"id": 7}, {"id": "p4", "content": ""}, {"id": "4x", "content": "x"}])
    stderr = refused(db, path)
    assert "item 2: is a JSON string, not a function; each item of the list is an object" in stderr
    assert "item 3, id: is a number (7), not a string; write the id in double quotes" in stderr
    assert "item 3, content: is missing" in stderr
    assert "item 4 (id 'p4'), content: is empty" in stderr
    assert "item 5, id: '4x' is not a valid id (letters, digits and _, not starting with a digit); rename it, e.g. to 'pipe_4x'" in stderr


def test_deep_nesting_is_refused_with_a_message(db: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    stderr = refused(db, path, status=2)
    assert "RecursionError" not in stderr
    assert "nests lists or objects too deeply to read" in stderr
    # Deep, but within what JSON reads: the valves are refused, naming the field.
    deep: Any = 1
    for _ in range(200):
        deep = [deep]
    stderr = refused(db, write(tmp_path / "deep_valves.json", [function(1, valves={"EXTRA": deep})]))
    assert "item 1 (id 'p1'), valves.EXTRA" in stderr and "nested more than 64 levels deep" in stderr


def test_duplicates_in_the_file_and_in_the_store(db: Path, tmp_path: Path) -> None:
    stderr = refused(db, write(tmp_path / "dup.json", [function(1), function(2), function(1, id="P1")]))
    assert "item 3 (id 'P1'), id: is also the id of item 1; give one of them another id, or remove one" in stderr

    ok(tuichat(db, "pipes", "import", str(write(tmp_path / "one.json", [function(1)]))))
    again = tuichat(db, "pipes", "import", str(write(tmp_path / "two.json", [function(2), function(1, name="New")])))
    assert again.returncode == 1
    assert "item 2 (id 'p1'), id: 'p1' is already stored; pass --replace to update it" in again.stderr
    assert "--id" not in again.stderr  # `pipes import` has no --id
    assert stored_ids(db) == {"p1"}  # p2 was not stored either
    replaced = ok(tuichat(db, "pipes", "import", str(tmp_path / "two.json"), "--replace"))
    assert "added pipe 'p2' (Pipe 2)" in replaced.stdout and "updated pipe 'p1' (New)" in replaced.stdout
    assert replaced.stdout.endswith("(1 added, 1 updated)\n")


def test_code_that_does_not_compile_or_load_is_listed(db: Path, tmp_path: Path) -> None:
    broken = function(2, content="class Pipe:\n    def pipe(self, body)\n")
    missing = function(3, content="import tuichat_no_such_module\nclass Pipe:\n    def pipe(self, body):\n        return 1\n")
    stderr = refused(db, write(tmp_path / "code.json", [function(1), broken, missing]))
    assert "item 2 (id 'p2'), content: SyntaxError: expected ':' (line 2, column 25)" in stderr
    assert "item 3 (id 'p3'), content: fails to load: ModuleNotFoundError" in stderr
    assert "--install-missing" in stderr and "pipes add" not in stderr


def test_two_thousand_functions_import_in_one_go(db: Path, tmp_path: Path) -> None:
    functions = [function(i) for i in range(2000)]
    path = write(tmp_path / "many.json", functions)
    started = time.perf_counter()
    result = ok(tuichat(db, "pipes", "import", str(path), timeout=120))
    took = time.perf_counter() - started
    assert result.stdout.endswith(f"imported 2000 of 2000 functions from {path} (2000 added, 0 updated)\n")
    assert result.stdout.count("\nmodels: ") == 2000
    assert query(db, "SELECT count(*), sum(is_active) FROM function WHERE id LIKE 'p%'") == [(2000, 2000)]
    assert ok(tuichat(db, "run", "p1999", "hi", "--no-save")).stdout == "1999\n"
    assert took < 60, f"2,000 functions took {took:.1f} s (about 5 s on 2 cores)"  # it was over 300 s

    # One bad item among 2,000: nothing is stored.
    other = db.with_name("other.db")
    functions[1500]["valves"] = {"TEMPERATURE": float("nan")}
    stderr = refused(other, write(tmp_path / "one_bad.json", json.dumps(functions)))
    assert "1 of 2000 functions has a problem" in stderr
    assert "item 1501 (id 'p1500'), valves.TEMPERATURE: is NaN, which JSON cannot store" in stderr


def test_imported_valves_are_validated_and_stored(db: Path, tmp_path: Path) -> None:
    source = (PIPES / "float_valves.py").read_text(encoding="utf-8")
    good = function(1, content=source, valves={"TEMPERATURE": 0.2})
    ok(tuichat(db, "pipes", "import", str(write(tmp_path / "good.json", [good]))))
    assert json.loads(query(db, "SELECT valves FROM function WHERE id = 'p1'")[0][0]) == {"TEMPERATURE": 0.2}
    assert ok(tuichat(db, "run", "p1", "hi", "--no-save")).stdout == "t=0.2\n"

    for bad, expected in (
        ({"TEMPERATURE": "hot"}, "item 1 (id 'p2'), valves.TEMPERATURE: Input should be a valid number, unable to parse string as a number (got \"hot\"); correct it"),
        ({"TEMPERATURE": float("inf")}, "item 1 (id 'p2'), valves.TEMPERATURE: is Infinity, which JSON cannot store"),
        ({"EXTRA": {"x": [1, float("-inf")]}}, "item 1 (id 'p2'), valves.EXTRA.x[1]: is -Infinity"),
    ):
        path = write(tmp_path / "bad.json", json.dumps([function(2, content=source, valves=bad)]))  # NaN as Python writes it
        result = tuichat(db, "pipes", "import", str(path))
        assert result.returncode == 1 and expected in result.stderr, (bad, result.stderr)
    assert stored_ids(db) == {"p1"}


def test_cli_valves_refuse_nan_and_infinity(db: Path) -> None:
    ok(tuichat(db, "pipes", "add", str(PIPES / "float_valves.py"), "--id", "fv"))
    ok(tuichat(db, "pipes", "valves", "fv", "--set", '{"TEMPERATURE": 0.5}'))
    for action, value, field in (
        ("valves", '{"TEMPERATURE": NaN}', "TEMPERATURE: NaN"),
        ("valves", '{"TEMPERATURE": Infinity}', "TEMPERATURE: Infinity"),
        ("valves", '{"EXTRA": {"limits": [1, -Infinity]}}', "EXTRA.limits[1]: -Infinity"),
        ("user-valves", '{"TOP_P": NaN}', "TOP_P: NaN"),
        ("valves", '{"TEMPERATURE": 1e999}', "TEMPERATURE: Infinity"),
    ):
        result = tuichat(db, "pipes", action, "fv", "--set", value)
        assert result.returncode == 2, (value, result.stdout, result.stderr)
        assert f"{field} is not a number JSON can store; give a finite number" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    stored = query(db, "SELECT valves FROM function WHERE id = 'fv'")[0][0]
    assert json.loads(stored) == {"TEMPERATURE": 0.5}  # unchanged, and standard JSON
    assert query(db, "SELECT count(*) FROM function_user_valves WHERE function_id = 'fv'") == [(0,)]
    deep = tuichat(db, "pipes", "valves", "fv", "--set", '{"EXTRA": ' + "[" * 50_000 + "]" * 50_000 + "}")
    assert deep.returncode == 2 and "too deeply" in deep.stderr and "RecursionError" not in deep.stderr


async def test_an_id_stored_by_another_process_during_the_import_rolls_it_all_back(db_path: Path) -> None:
    """Ids are checked before the functions load (seconds for thousands); another tuichat that
    stores one of them meanwhile makes the whole import roll back, saying so, not a traceback or
    a hint about flags."""
    from tuichat.runtime.host import PipeHost
    from tuichat.runtime.importing import ImportRefused
    from tuichat.runtime.library import FunctionLibrary
    from tuichat.store import Store

    async with await Store.open(db_path) as store, await Store.open(db_path) as other:
        library = FunctionLibrary(PipeHost(store))
        load = library.load_source

        async def load_while_another_stores(fid: str, *args: Any) -> Any:
            if fid == "p2":  # the other process, between the check and the transaction
                await other.functions.insert("p3", name="Theirs", type="pipe", content=SOURCE.format(i=3))
            return await load(fid, *args)

        library.load_source = load_while_another_stores  # type: ignore[method-assign]
        with pytest.raises(ImportRefused) as refused:
            await library.import_all([function(1), function(2), function(3)], where="three.json")
        assert str(refused.value).endswith("item 3 (id 'p3'), id: 'p3' was stored by another tuichat during this import; import the file again")
        assert "--id" not in str(refused.value)
        assert sorted(row.id for row in await store.functions.list() if row.id.startswith("p")) == ["p3"]  # theirs only
