"""Attached files on the chat path, in the host process: Open WebUI 0.12.4's
`chat_completion_files_handler` with Bypass Embedding and Retrieval on.

One non-stream `query_generation` task call to the pipe itself (no filters: Open WebUI's task
route runs only Pipelines-server filters), whose queries go into the first status and nowhere
else (nothing is searched); then every attached file's whole stored text is a source. The app
sends the texts along (`chat["file_texts"]`): the file items themselves hold none.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tuichat.runtime.chatpath.rag import QUERY_GENERATION_TASK, Source, file_source, parse_queries, query_prompt, sources_count
from tuichat.runtime.chatpath.request import AFTER_INLET_KEYS
from tuichat.runtime.invocation.invoke import Invocation
from tuichat.runtime.invocation.trace import ResponseStep

FileTexts = dict[str, dict[str, str]]  # file id -> {"name", "text"}
MakeTask = Callable[[dict[str, Any], dict[str, Any]], Invocation]  # (body, metadata) -> a call of the turn's pipe
Emit = Callable[[Any], Awaitable[None]]
Log = Callable[[dict[str, Any]], None]
# The task's metadata is the request's as the page posted it: not what the chat path added
# since, and no message id (so the pipe gets no `__event_emitter__`, as in Open WebUI).
_NOT_FOR_TASK = frozenset({*AFTER_INLET_KEYS, "message_id", "task_id", "include_file_context"})
SOURCE_PREVIEW = 2000  # characters of a file's text kept in the reply's sources (the prompt has it whole)


async def retrieve_files(
    body: dict[str, Any], metadata: dict[str, Any], texts: FileTexts, make_task: MakeTask, emit: Emit, log: Log
) -> list[Source]:
    """The files' sources, after the task call and with its statuses emitted."""
    files = [f for f in metadata.get("files") or [] if isinstance(f, dict) and f.get("type") != "filesystem"]
    if not files:
        return []
    messages = copy.deepcopy(body.get("messages") or [])
    began = time.monotonic()
    answer = await ask_queries(make_task, body.get("model"), messages, metadata)
    queries = parse_queries(answer)
    took = round((time.monotonic() - began) * 1000)
    log({"stream": "task", "text": f"query_generation: {len(queries)} quer{'y' if len(queries) == 1 else 'ies'} in {took} ms"
         + ("" if answer is not None else " (the pipe gave no answer)")})  # fmt: skip
    await emit({"type": "status", "data": {"action": "queries_generated", "queries": queries, "done": False}})
    sources = [
        file_source(item, texts[str(item.get("id"))]["text"], texts[str(item.get("id"))]["name"])
        for item in files
        if item.get("type") == "file" and str(item.get("id")) in texts
    ]
    await emit({"type": "status", "data": {"action": "sources_retrieved", "count": sources_count(sources), "done": True}})
    for source in sources:  # the reply lists them (Open WebUI's `sources`), without the whole text
        await emit({"type": "source", "data": preview(source)})
    return sources


async def ask_queries(make_task: MakeTask, model: Any, messages: list[dict[str, Any]], metadata: Mapping[str, Any]) -> str | None:
    """The task call (routers/tasks.py:generate_queries); its answer's text, or None when the
    pipe failed or answered with no message."""
    task_body = {"model": model, "messages": messages, "type": "retrieval", "chat_id": metadata.get("chat_id")}
    task_metadata = {key: value for key, value in metadata.items() if key not in _NOT_FOR_TASK}
    task_metadata.update(task=QUERY_GENERATION_TASK, task_body=task_body)
    body = {"model": model, "messages": [{"role": "user", "content": query_prompt(messages)}], "stream": False}
    invocation = make_task(body, task_metadata)
    answer: Any = None
    try:
        async for step in invocation:
            if isinstance(step, ResponseStep):
                answer = step.data
    except BaseException:
        invocation.cancel()  # the turn was stopped while the task ran
        raise
    return message_text(answer)


def message_text(answer: Any) -> str | None:
    try:
        text = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return text if isinstance(text, str) else None


def preview(source: Source) -> Source:
    item = source.get("source") or {}
    return {
        "source": {key: item.get(key) for key in ("type", "id", "name", "content_type", "size")},
        "document": [text[:SOURCE_PREVIEW] for text in source.get("document") or []],
        "metadata": source.get("metadata") or [],
    }
