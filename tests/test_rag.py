"""Sources into the prompt as Open WebUI 0.12.4 puts them (tuichat.runtime.chatpath.rag); the
whole path is checked against the recordings by tests/conformance/test_chat_path.py."""

from __future__ import annotations

import json
from pathlib import Path

from tuichat.runtime.chatpath.rag import (
    DEFAULT_RAG_TEMPLATE,
    add_file_context,
    apply_sources,
    attached_files_block,
    file_source,
    parse_queries,
    query_prompt,
    source_context,
    sources_count,
)

CASES = Path(__file__).parent / "conformance" / "chat"


def item(file_id: str, name: str, content_type: str = "text/plain") -> dict:
    return {"type": "file", "id": file_id, "url": file_id, "name": name, "content_type": content_type}


def test_the_template_is_open_webuis() -> None:
    """The recorded reply call's user message starts with the template, up to the context."""
    echo = json.loads((CASES / "bypass" / "expected.json").read_text())["pipe_echo"]["1"]
    recorded = echo["body"]["messages"][0]["content"]
    assert recorded.startswith(DEFAULT_RAG_TEMPLATE.split("{{CONTEXT}}")[0])
    assert DEFAULT_RAG_TEMPLATE.endswith("<context>\n{{CONTEXT}}\n</context>\n")


def test_sources_number_distinct_names_and_keep_text_verbatim() -> None:
    sources = [
        file_source(item("a", "notes.txt"), "one\n", "notes.txt"),
        file_source(item("b", "plan.md"), "  two  ", "plan.md"),
        file_source(item("c", "notes.txt"), "three", "notes.txt"),
    ]
    assert source_context(sources) == (
        '<source id="1" name="notes.txt" resource-type="file" resource-id="a">one\n</source>\n'
        '<source id="2" name="plan.md" resource-type="file" resource-id="b">  two  </source>\n'
        '<source id="1" name="notes.txt" resource-type="file" resource-id="c">three</source>\n'
    )
    assert sources_count(sources) == 2


def test_template_goes_before_every_text_part() -> None:
    sources = [file_source(item("a", "n.txt"), "secret", "n.txt")]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "block"}, {"type": "text", "text": "Q?"}, image]}]
    apply_sources(messages, sources, "block")
    parts = messages[0]["content"]
    filled = DEFAULT_RAG_TEMPLATE.replace(
        "{{CONTEXT}}", '<source id="1" name="n.txt" resource-type="file" resource-id="a">secret</source>'
    )
    assert [p.get("text") for p in parts] == [f"{filled}\nblock", f"{filled}\nQ?", None]
    assert parts[2] == image


def test_nothing_changes_without_sources_or_prompt() -> None:
    messages = [{"role": "user", "content": "hi"}]
    assert apply_sources(messages, [], "hi") == [{"role": "user", "content": "hi"}]
    assert apply_sources(messages, [file_source(item("a", "n"), "x", "n")], "") == [{"role": "user", "content": "hi"}]


def test_attached_files_block_leaves_out_data_url_images() -> None:
    files = [item("f1", "notes.txt"), {"type": "image", "url": "data:image/png;base64,AA=="}]
    assert attached_files_block(files) == (
        '<attached_files>\n<file type="file" id="f1" url="f1" content_type="text/plain" name="notes.txt"/>\n'
        "</attached_files>\n\n"
    )
    assert attached_files_block(files[1:]) == ""
    messages = [
        {"role": "user", "content": "a", "files": files},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": [{"type": "text", "text": "c"}], "files": files},
    ]
    add_file_context(messages)
    assert messages[0]["content"].endswith("</attached_files>\n\na")
    assert messages[2]["content"][0]["text"].startswith("<attached_files>\n")
    assert all("files" not in m for m in messages)


def test_query_answers_read_as_open_webui_reads_them() -> None:
    assert parse_queries('sure: {"queries": ["a", "b"]} ok') == ["a", "b"]
    assert parse_queries("no json here") == ["no json here"]
    assert parse_queries('{"queries": "x"}') == []
    assert parse_queries(None) == []


def test_query_prompt_shows_the_chat() -> None:
    prompt = query_prompt([{"role": "user", "content": "What is in the file?"}])
    assert prompt.endswith("<chat_history>\nUSER: What is in the file?\n</chat_history>\n")
    assert "{{CURRENT_DATE}}" not in prompt and "Strictly return in JSON format: \n" in prompt


def test_retrieval_statuses_read_as_open_webui_shows_them() -> None:
    from tuichat.runtime.reply.present import status_text

    assert status_text({"action": "queries_generated", "queries": ["secret code", "x"], "done": False}) == 'Querying "secret code", "x"'
    assert status_text({"action": "queries_generated", "queries": [], "done": False}) == "Querying"
    assert [status_text({"action": "sources_retrieved", "count": n}) for n in (0, 1, 3)] == [
        "No sources found", "Retrieved 1 source", "Retrieved 3 sources",
    ]  # fmt: skip
