"""The pipes screen's import of an Open WebUI functions export (I) is all or nothing, as the
CLI's: a file with bad items stores none of it, and the screen lists each problem (item, id,
field, what is wrong, what to do), the first few when there are many."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.ui.helpers import answer_prompt, open_pipes, screen_lines, until
from tests.ui.test_pipes_screen import SIZE, idle, ids, problem
from tuichat.runtime.library import EXAMPLE_IDS
from tuichat.store import Store
from tuichat.ui.app import TuichatApp

SOURCE = 'class Pipe:\n    def pipe(self, body: dict) -> str:\n        return "{i}"\n'


def function(i: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"p{i}", "name": f"Pipe {i}", "type": "pipe", "content": SOURCE.format(i=i), "is_active": True} | fields


async def test_a_bad_export_stores_nothing_and_lists_each_problem(db_path: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([function(1), function(2, name=5), function(3, valves={"T": float("nan")}), function(1)]))
    many = tmp_path / "many.json"
    many.write_text(json.dumps([function(i, is_active="yes") for i in range(12)]))
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        await pilot.press("I")
        await answer_prompt(pilot, str(bad))
        await idle(pilot, screen)
        shown = problem(screen)
        assert "bad.json: nothing was imported, because 3 of 4 functions have problems" in shown
        assert "item 2 (id 'p2'), name: is a number (5), not a string" in shown
        assert "item 3 (id 'p3'), valves.T: is NaN, which JSON cannot store" in shown
        assert "item 4 (id 'p1'), id: is also the id of item 1" in shown
        assert "nothing was imported" in "\n".join(screen_lines(app))  # on screen, not only in the widget
        assert ids(screen) == list(EXAMPLE_IDS)  # p1, good on its own, was not stored either

        await pilot.press("I")
        await answer_prompt(pilot, str(many))
        await idle(pilot, screen)
        shown = problem(screen)
        assert "12 of 12 functions have problems" in shown and "item 8 (id 'p7')" in shown
        assert "item 9 " not in shown and "… and 4 more" in shown  # a toast-sized list
        await until(pilot, lambda: ids(screen) == list(EXAMPLE_IDS))
    async with await Store.open(db_path) as store:
        assert {row.id for row in await store.functions.list()} == set(EXAMPLE_IDS)
