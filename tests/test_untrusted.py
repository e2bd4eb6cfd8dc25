"""Pipe output is untrusted: terminal control sequences a pipe (or the model behind it) sends
are shown, not obeyed, wherever tuichat displays or exports them as text, and kept verbatim
in JSON output.

The neutraliser itself; the CLI end to end on a real host process (`tuichat run` streaming a
reply whose escape sequences are split across chunks, its event and error lines, `--jsonl`,
`chats list/show`, `pipes list/show`, `models`, `pipes export`); and the Markdown and JSON
exports. The app's side is tests/ui/test_untrusted_ui.py and tests/test_tui_untrusted_e2e.py.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import ok, tuichat, tuichat_many
from tuichat.cli.output import ShownStream, dump_json, table, verbatim
from tuichat.runtime.export import chat_to_json, chat_to_markdown
from tuichat.runtime.untrusted import has_controls, neutralise, shown_json
from tuichat.store import ChatRow, MessageRow

ESC, BEL = "\x1b", "\x07"
CLIPBOARD = f"{ESC}]52;c;UFdORUQ={BEL}"  # OSC 52: put "PWNED" on the clipboard
TITLE = f"{ESC}]0;PWNED{BEL}"  # OSC 0: the window title
CLEAR = f"{ESC}[2J{ESC}[H"
QUERY = f"{ESC}[6n"  # the terminal would type its answer into the app
C1 = "\x9b2J\x9d0;PWNED\x9c"  # CSI and OSC as single C1 characters

# Control characters a terminal acts on: C0 but newline and tab, DEL, C1.
RAW = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))]


def no_controls(text: str) -> bool:
    """No control character a terminal would act on (CRLF line ends aside)."""
    return not any(char in text.replace("\r\n", "\n") for char in RAW)


# -- the neutraliser -------------------------------------------------------------------------
def test_every_control_character_is_shown_as_one_visible_character() -> None:
    for char in RAW:
        shown = neutralise(char)
        assert shown != char and no_controls(shown), repr(char)
    assert neutralise(CLIPBOARD) == "␛]52;c;UFdORUQ=␇"
    assert neutralise(CLEAR + QUERY) == "␛[2J␛[H␛[6n"
    assert neutralise(C1) == "\\x9b2J\\x9d0;PWNED\\x9c"
    assert neutralise("\x00\x08\x7f") == "␀␈␡"


def test_text_layout_and_unicode_are_left_alone() -> None:
    text = "tabs\tand\nnewlines, CRLF\r\nends, ✓ 漢字 🎉 é, **Markdown** `code` > quote\n| a | b |"
    assert neutralise(text) == text
    assert not has_controls(text)


def test_a_lone_carriage_return_is_shown_it_would_write_over_the_line() -> None:
    assert neutralise("safe\rEVIL") == "safe␍EVIL"
    assert neutralise("line\r\nnext\r") == "line\r\nnext␍"


def test_neutralised_text_is_neutralised_again_unchanged() -> None:
    once = neutralise(CLIPBOARD + C1 + "\r")
    assert neutralise(once) == once and not has_controls(once)


def test_a_sequence_split_across_chunks_is_shown_all_the_same() -> None:
    chunks = ["start ", ESC, "]52;c;", "UFdORUQ=", BEL + " ", "\x9b", "2J end"]
    assert "".join(neutralise(chunk) for chunk in chunks) == neutralise("".join(chunks))
    out = io.StringIO()
    stream = ShownStream(out)
    for chunk in chunks:
        stream.write(chunk)
    assert out.getvalue() == "start ␛]52;c;UFdORUQ=␇ \\x9b2J end"
    assert verbatim(stream) is out


def test_json_keeps_every_value_verbatim_with_no_control_character_on_the_terminal() -> None:
    value = {"text": CLIPBOARD + C1 + "\x7f\r\n✓", "list": [TITLE]}
    for indent in (None, 2):
        encoded = dump_json(value, indent=indent)
        assert json.loads(encoded) == value
        assert no_controls(encoded.replace("\n", ""))
    assert shown_json('"\x9b"') == '"\\u009b"'


def test_table_cells_are_shown_and_measured_as_shown() -> None:
    out = io.StringIO()
    table(("NAME", "ID"), [(f"a{TITLE}b", "x"), ("plain", "y")], out)
    lines = out.getvalue().splitlines()
    assert lines[1] == "a␛]0;PWNED␇b  x"
    assert lines[2].index("y") == lines[1].index("x")  # the columns line up


# -- the CLI, end to end ----------------------------------------------------------------------
# The frontmatter holds the raw characters (a name and an author a pipe wrote); the code
# writes them with escapes. The reply's first escape sequence is split across two chunks.
HOSTILE = f'''"""
title: Hostile {TITLE} pipe
author: evil{CLEAR}
version: 0.1
"""
''' + r'''
ESC, BEL = "\x1b", "\x07"
CLIPBOARD = ESC + "]52;c;UFdORUQ=" + BEL
TITLE = ESC + "]0;PWNED" + BEL
CLEAR = ESC + "[2J" + ESC + "[H"
QUERY = ESC + "[6n"
C1 = "\x9b2J\x9d0;PWNED\x9c"


class Pipe:
    def pipes(self):
        return [{"id": "talk", "name": "Talk " + TITLE}, {"id": "fail", "name": "Fail"}]

    async def pipe(self, body, __event_emitter__=None, __task__=None):
        if __task__:
            return ""
        if body["model"].endswith("fail"):
            raise ValueError("bad " + CLEAR)
        await __event_emitter__({"type": "status", "data": {"description": "busy " + TITLE, "done": False}})
        await __event_emitter__({"type": "notification", "data": {"type": "info", "content": "note " + CLIPBOARD}})
        await __event_emitter__({"type": "chat:title", "data": "Title " + TITLE})
        return self.stream()

    async def stream(self):
        yield "start " + ESC
        yield "]52;c;UFdORUQ=" + BEL + " mid "
        yield CLEAR + C1 + " cr\rOVER " + QUERY
        yield "\n\nend ✓ 漢字 🎉\n"
'''


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("untrusted")
    (folder / "hostile.py").write_text(HOSTILE, encoding="utf-8")
    db = folder / "t.db"
    ok(tuichat(db, "pipes", "add", str(folder / "hostile.py")))
    return db


def test_tuichat_run_shows_the_reply_events_and_error_and_obeys_none(hostile_db: Path) -> None:
    # A real `tuichat run`, its reply streamed chunk by chunk to a real pipe.
    result = tuichat(hostile_db, "run", "hostile.talk", f"hi {TITLE}")
    assert result.returncode == 0, result.stderr
    assert no_controls(result.stdout) and no_controls(result.stderr)
    assert result.stdout == "start ␛]52;c;UFdORUQ=␇ mid ␛[2J␛[H\\x9b2J\\x9d0;PWNED\\x9c cr␍OVER ␛[6n\n\nend ✓ 漢字 🎉\n"
    assert "[status] busy ␛]0;PWNED␇ (running)" in result.stderr
    assert "[notification] info: note ␛]52;c;UFdORUQ=␇" in result.stderr
    assert "[chat:title] Title ␛]0;PWNED␇" in result.stderr

    failed = tuichat(hostile_db, "run", "hostile.fail", "hi", "--no-save")
    assert failed.returncode == 1
    assert "bad ␛[2J␛[H\n" in failed.stderr and "ValueError: bad ␛[2J␛[H" in failed.stderr
    assert no_controls(failed.stderr + failed.stdout)


def test_jsonl_keeps_what_the_pipe_sent_verbatim(hostile_db: Path) -> None:
    result = tuichat(hostile_db, "run", "hostile.talk", "hi", "--jsonl", "--no-save")
    assert result.returncode == 0, result.stderr
    assert no_controls(result.stdout)  # escaped in the JSON text, not on the terminal
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    reply = steps[-1]["reply"]
    assert reply["content"].startswith(f"start {CLIPBOARD} mid {CLEAR}{C1} cr\rOVER {QUERY}\n\nend ✓ 漢字 🎉")
    assert reply["title"] == f"Title {TITLE}"
    events = [step["event"] for step in steps if "event" in step]
    assert {"type": "notification", "data": {"type": "info", "content": f"note {CLIPBOARD}"}} in events


def test_listings_and_shown_chats_obey_nothing_and_json_is_verbatim(hostile_db: Path) -> None:
    ok(tuichat(hostile_db, "run", "hostile.talk", f"asked {TITLE}"))  # the message titles the chat
    results = tuichat_many(hostile_db, [
        ["pipes", "list"], ["pipes", "show", "hostile"], ["models"], ["chats", "list"],
        ["pipes", "list", "--json"], ["models", "--json"], ["chats", "list", "--json"], ["pipes", "export", "hostile"],
    ])  # fmt: skip
    texts = {" ".join(r.args[2:]): r for r in results}
    for args, result in texts.items():
        assert result.returncode == 0, (args, result.stderr)
        if args != "pipes export hostile":
            assert no_controls(result.stdout) and no_controls(result.stderr), args
    assert "Hostile ␛]0;PWNED␇ pipe" in texts["pipes list"].stdout
    show = texts["pipes show hostile"].stdout
    assert "name:      Hostile ␛]0;PWNED␇ pipe" in show and "author:    evil␛[2J␛[H" in show
    # (Columns as wide as their widest cell: the local models' setup entry is long.)
    assert re.search(r"^hostile\.talk +Talk ␛\]0;PWNED␇ +hostile$", texts["models"].stdout, re.MULTILINE)
    assert "asked ␛]0;PWNED␇" in texts["chats list"].stdout
    # JSON: the same values, verbatim.
    [row] = [r for r in json.loads(texts["pipes list --json"].stdout) if r["id"] == "hostile"]
    assert row["name"] == f"Hostile {TITLE} pipe"
    assert {"id": "hostile.talk", "name": f"Talk {TITLE}"}.items() <= next(
        m for m in json.loads(texts["models --json"].stdout) if m["id"] == "hostile.talk"
    ).items()
    chat = next(c for c in json.loads(texts["chats list --json"].stdout) if c["title"] == f"asked {TITLE}")
    # A source exported to a file is its exact text.
    assert texts["pipes export hostile"].stdout == HOSTILE

    shown = tuichat(hostile_db, "chats", "show", chat["id"])
    assert shown.returncode == 0 and no_controls(shown.stdout)
    assert "# asked ␛]0;PWNED␇\n" in shown.stdout and "start ␛]52;c;UFdORUQ=␇ mid ␛[2J" in shown.stdout
    as_json = json.loads(ok(tuichat(hostile_db, "chats", "show", chat["id"], "--json")).stdout)
    assert as_json["title"] == f"asked {TITLE}" and as_json["messages"][-1]["content"].startswith(f"start {CLIPBOARD}")


# -- exports ----------------------------------------------------------------------------------
def _message(role: str, content: str, **fields: Any) -> MessageRow:
    values: dict[str, Any] = {
        "id": role, "chat_id": "c1", "parent_id": None, "role": role, "content": content, "model_id": None,
        "created_at": 1.0, "updated_at": 1.0, "status": "done", "error": None, "reasoning": None, "usage": None, "extra": {},
    }  # fmt: skip
    return MessageRow(**(values | fields))


def test_the_markdown_export_shows_control_characters_and_the_json_keeps_them() -> None:
    chat = ChatRow(id="c1", title=f"Hi {TITLE}", model_id="m", system_prompt=None, stream=True, params={}, created_at=0.0, updated_at=0.0)
    messages = [
        _message("user", "hello"),
        _message(
            "assistant", f"text {CLIPBOARD} ✓\n", status="error", error=f"boom {CLEAR}", reasoning=f"why {C1}",
            extra={"statuses": [{"description": f"step {QUERY}", "done": True}]},
        ),
    ]  # fmt: skip
    markdown = chat_to_markdown(chat, messages)
    assert no_controls(markdown)
    for shown in ("# Hi ␛]0;PWNED␇", "text ␛]52;c;UFdORUQ=␇ ✓", "**Error:** boom ␛[2J␛[H", "why \\x9b2J", "_step ␛[6n_"):
        assert shown in markdown
    exported = chat_to_json(chat, messages, {})
    assert exported["chat"]["title"] == f"Hi {TITLE}"
    assert exported["messages"][1]["content"] == f"text {CLIPBOARD} ✓\n"
