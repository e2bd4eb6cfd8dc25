"""`tuichat tasks` switches Open WebUI's background tasks; `run --tasks` runs them after the
reply (follow-ups; a new chat's title and tags), and `chats list/show` show what they made."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import tuichat_many

TASKER = '''
class Pipe:
    def pipe(self, body, __task__=None):
        if __task__ == "follow_up_generation":
            return '{"follow_ups": ["And herons?", "Why?"]}'
        if __task__ == "title_generation":
            return '{"title": "Storks"}'
        if __task__ == "tags_generation":
            return '{"tags": ["Birds", "Nature"]}'
        return "about " + body["messages"][-1]["content"]
'''


def test_run_tasks_prints_what_each_task_made_and_the_chat_keeps_it(tmp_path: Path) -> None:
    pipe = tmp_path / "tasker.py"
    pipe.write_text(TASKER)
    db = tmp_path / "t.db"
    add, jsonl, listed, tagged, untagged, off, states, no_save, half = tuichat_many(db, [
        ["pipes", "add", str(pipe)],
        ["run", "tasker", "storks", "--jsonl", "--tasks"],
        ["chats", "list", "--json"],
        ["chats", "list", "--tag", "birds"],
        ["chats", "list", "--tag", "fish"],
        ["tasks", "follow-ups", "off"],
        ["tasks"],
        ["run", "tasker", "x", "--tasks", "--no-save"],
        ["tasks", "title"],
    ])  # fmt: skip
    assert add.returncode == 0, add.stderr
    lines = [json.loads(line) for line in jsonl.stdout.splitlines()]
    made = [line for line in lines if set(line) & {"follow_ups", "title", "tags"}]
    assert made == [{"follow_ups": ["And herons?", "Why?"]}, {"title": "Storks"}, {"tags": ["Birds", "Nature"]}]
    assert list(lines[-1]) == ["reply"]  # the reply line stays last
    chats = json.loads(listed.stdout)
    assert [(c["title"], c["tags"]) for c in chats] == [("Storks", ["Birds", "Nature"])]
    assert "Storks" in tagged.stdout and "Birds, Nature" in tagged.stdout  # a tag's id matches any spelling
    assert "Storks" not in untagged.stdout
    assert off.returncode == 0 and [line.split()[:2] for line in states.stdout.splitlines()[1:]] == [
        ["title", "on"], ["tags", "on"], ["follow-ups", "off"],
    ]  # fmt: skip
    assert no_save.returncode == 2 and "--tasks needs a stored chat" in no_save.stderr
    assert half.returncode == 2 and "say on or off" in half.stderr


def test_a_continued_chat_gets_follow_ups_only_shown_on_stderr(tmp_path: Path) -> None:
    pipe = tmp_path / "tasker.py"
    pipe.write_text(TASKER)
    db = tmp_path / "t.db"
    tuichat_many(db, [["pipes", "add", str(pipe)], ["run", "tasker", "storks"]])
    listed, = tuichat_many(db, [["chats", "list", "--json"]])
    chat_id = json.loads(listed.stdout)[0]["id"]
    run, shown = tuichat_many(db, [["run", "tasker", "more", "--tasks", "--chat", chat_id[:8]], ["chats", "show", chat_id]])
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "about more"  # stdout keeps to the reply
    assert "[follow-ups]\n  › And herons?\n  › Why?" in run.stderr
    assert "[title]" not in run.stderr and "[tags]" not in run.stderr  # not the first exchange
    assert "follow-ups:\n  › And herons?\n  › Why?" in shown.stdout
    assert "tags:" not in shown.stdout  # the first run had no --tasks
