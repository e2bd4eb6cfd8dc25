"""Chat params as the forms edit them (`runtime.chat_params`), a chat's toggles in its row
(schema v9), and a model's default system prompt put before the pipe's messages as Open
WebUI 0.12.4's `generate_function_chat_completion` does (`chatpath.model_system`)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tuichat.runtime.chat_params import form_values, parse_form, summary
from tuichat.runtime.chatpath.model_system import apply_model_system
from tuichat.store import Store
from tuichat.store.schema import MIGRATIONS, statements


def test_every_field_parses_and_an_empty_one_sets_nothing() -> None:
    params, errors = parse_form({
        "temperature": "0.7", "top_p": "1", "max_tokens": "256", "seed": "-3", "stop": '["\\n\\n", "END"]',
        "reasoning_effort": "low", "function_calling": "native", "custom": '{"num_ctx": 8192, "keep_alive": "5m"}',
    })  # fmt: skip
    assert errors == {}
    assert params == {
        "temperature": 0.7, "top_p": 1.0, "max_tokens": 256, "seed": -3, "stop": ["\n\n", "END"],
        "reasoning_effort": "low", "function_calling": "native", "num_ctx": 8192, "keep_alive": "5m",
    }  # fmt: skip
    assert parse_form({"temperature": "  ", "stop": ""}) == ({}, {})


@pytest.mark.parametrize(
    ("key", "text", "error"),
    [
        ("temperature", "2.5", "Temperature: 2.5 is out of range: give 0 to 2"),
        ("top_p", "nan", "Top p: 'nan' is not a finite number (JSON cannot store it)"),
        ("max_tokens", "0", "Max tokens: 0 is out of range: give 1 or more"),
        ("seed", "1.5", "Seed: '1.5' is not a whole number"),
        ("stop", "[1]", "Stop: the JSON list must hold non-empty strings only"),
        ("stop", " , ", "Stop: give at least one sequence"),
        ("function_calling", "auto", "Function calling: 'auto' is not one of native, legacy"),
        ("custom", "[1]", 'Custom: must be a JSON object like {"num_ctx": 8192}'),
        ("custom", '{"a": NaN}', "Custom: not valid JSON (NaN is not JSON (JSON cannot store it))"),
        ("custom", '{"system": "x"}', "Custom: 'system': the system prompt has its own field"),
        ("custom", '{"seed": 1}', "Custom: 'seed' has its own field above: set it there"),
    ],
)
def test_a_bad_value_is_named_by_its_field(key: str, text: str, error: str) -> None:
    params, errors = parse_form({key: text, "temperature": "0.1"} if key != "temperature" else {key: text})
    assert errors == {key: error}
    assert key not in params


def test_stored_params_read_back_into_the_form_and_the_header_summary() -> None:
    params = {"temperature": 0.2, "stop": ["a", "b,c"], "function_calling": "legacy", "num_ctx": 1, "system": "s"}
    values = form_values(params)
    assert values["stop"] == '["a", "b,c"]'  # a comma inside a sequence: JSON, so it reads back the same
    assert values["custom"] == '{"num_ctx": 1}'  # the system prompt has its own field
    assert parse_form(values)[0] == {k: v for k, v in params.items() if k != "system"}
    assert summary(params) == "t0.2 stop×2 legacy +1"
    assert summary({}) == ""


def test_the_model_system_prompt_goes_before_the_chats_own() -> None:
    row = {"params": {"system": "Model says hi to {{USER_NAME}}."}}
    metadata = {"variables": {"{{USER_NAME}}": "Ada"}}
    body = {"messages": [{"role": "system", "content": "Chat prompt."}, {"role": "user", "content": "q"}]}
    apply_model_system(body, row, metadata)
    assert body["messages"][0] == {"role": "system", "content": "Model says hi to Ada.\nChat prompt."}
    body = {"messages": [{"role": "user", "content": "q"}]}
    apply_model_system(body, row, metadata)
    assert body["messages"][0] == {"role": "system", "content": "Model says hi to Ada."}
    untouched = {"messages": [{"role": "user", "content": "q"}]}
    apply_model_system(untouched, {"params": {}}, metadata)
    apply_model_system(untouched, None, metadata)
    assert untouched == {"messages": [{"role": "user", "content": "q"}]}


async def test_a_chats_toggles_are_stored_in_its_row(store: Store) -> None:
    chat = await store.chats.create("t")
    assert chat.filter_ids == []
    chat = await store.chats.update(chat.id, filter_ids=["web_search"], params={"seed": 1})
    assert ((await store.chats.get(chat.id)).filter_ids, chat.params) == (["web_search"], {"seed": 1})
    with pytest.raises(TypeError, match="list of str"):
        await store.chats.update(chat.id, filter_ids="web_search")


async def test_an_older_database_gets_the_column_with_no_toggles_on(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path, isolation_level=None)) as conn:
        for migration in MIGRATIONS[:-1]:
            for statement in statements(migration):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
        conn.execute("INSERT INTO chat (id, title, created_at, updated_at) VALUES ('c1', 'Old chat', 1, 1)")
    async with await Store.open(db_path) as store:
        assert (await store.chats.get("c1")).filter_ids == []
