"""A valve name a pipe does not have is refused, naming it and listing the valid ones (it used
to be dropped by pydantic and `stored: {}` said): `tuichat pipes valves/user-valves --set`, in
one CLI process on a real SQLite file, and the README's own example run as written."""

from __future__ import annotations

import re
import shlex
import sqlite3
from pathlib import Path

from tests.cli_helpers import query, tuichat_many

README = Path(__file__).parent.parent / "README.md"
NESTED = '''
from pydantic import BaseModel, Field

class Options(BaseModel):
    depth: int = 1
    label: str = ""

class Pipe:
    class Valves(BaseModel):
        API_KEY: str = ""
        OPTIONS: Options = Field(default_factory=Options)

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, body):
        return f"{self.valves.OPTIONS.depth}"
'''


def readme_example(command: str) -> list[str]:
    """The README's `tuichat pipes <command> ... --set '...'` line, as argv after `tuichat`."""
    [line] = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith(f"tuichat pipes {command} ")]
    return shlex.split(line.partition("#")[0])[1:]


def test_unknown_valve_names_are_refused_with_the_valid_ones(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    nope, user_nope, mixed, stale_reset, readme, shown = tuichat_many(db, [
        ["pipes", "valves", "echo", "--set", '{"NOPE": 1}'],
        ["pipes", "user-valves", "echo", "--set", '{"style": "terse"}'],
        ["pipes", "valves", "echo", "--set", '{"PREFIX": "> ", "prefix": 1, "Upper": true}'],
        ["pipes", "valves", "echo", "--set", '{"GONE": null}'],
        readme_example("user-valves"),
        ["pipes", "user-valves", "echo", "--json"],
    ])  # fmt: skip
    assert (nope.returncode, nope.stdout) == (2, "")
    assert "invalid valves for 'echo': no valve named 'NOPE'; the valves are PREFIX, UPPERCASE" in nope.stderr
    assert user_nope.returncode == 2 and "no valve named 'style'; the valves are SIGNATURE" in user_nope.stderr
    assert mixed.returncode == 2 and "no valves named 'prefix', 'Upper'" in mixed.stderr and "case-sensitive" in mixed.stderr
    assert stale_reset.returncode == 2 and "'GONE'" in stale_reset.stderr  # a name never stored is not a reset
    assert readme.returncode == 0 and readme.stdout == 'stored: {"SIGNATURE": "-- Al"}\n'
    assert '"SIGNATURE": "-- Al"' in shown.stdout
    assert query(db, "SELECT valves FROM function WHERE id = 'echo'") == [("{}",)]  # nothing stored by the refusals



def test_a_key_a_nested_model_valve_lacks_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    source = tmp_path / "nested.py"
    source.write_text(NESTED, encoding="utf-8")
    _added, nested, deep_ok = tuichat_many(db, [
        ["pipes", "add", str(source)],
        ["pipes", "valves", "nested", "--set", '{"OPTIONS": {"dpth": 2}}'],
        ["pipes", "valves", "nested", "--set", '{"OPTIONS": {"depth": 2}}'],
    ])  # fmt: skip
    assert nested.returncode == 2 and "OPTIONS has no key 'dpth'; its keys are depth, label" in nested.stderr
    assert deep_ok.stdout == 'stored: {"OPTIONS": {"depth": 2}}\n'


def test_a_stored_name_the_class_no_longer_has_can_be_reset_with_null(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    tuichat_many(db, [["pipes", "list"]])
    with sqlite3.connect(db) as conn:  # as an older version of the pipe (or an import) left it
        conn.execute("""UPDATE function SET valves = '{"OLD": 1, "PREFIX": "> "}' WHERE id = 'echo'""")
    reset, = tuichat_many(db, [["pipes", "valves", "echo", "--set", '{"OLD": null}']])
    assert reset.returncode == 0 and reset.stdout == 'stored: {"PREFIX": "> "}\n'
    assert re.search("OLD", query(db, "SELECT valves FROM function WHERE id = 'echo'")[0][0]) is None
