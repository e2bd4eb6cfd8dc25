"""Retrieved sources into the prompt, as Open WebUI 0.12.4 does it on the chat path.

Sources come from attached files (Bypass Embedding and Retrieval: each file's whole text) and,
in legacy function calling, from tool results. They are one shape, Open WebUI's
`{source, document: [...], metadata: [...]}`, turned into `<source>` tags
(utils/middleware.py:get_source_context) and put into the last user message through the RAG
template (utils/task.py:rag_template, misc.py:add_or_update_user_message). Also here: the
`<attached_files>` block (middleware.py:add_file_context) and the retrieval query-generation
prompt and the reading of its answer (routers/tasks.py:generate_queries,
middleware.py:chat_completion_files_handler).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from tuichat.runtime.background.prompt import content_text, render
from tuichat.runtime.chatpath.request import prepend_text

QUERY_GENERATION_TASK: Final = "query_generation"  # Open WebUI's TASKS.QUERY_GENERATION

# open_webui/config.py, 0.12.4, verbatim.
DEFAULT_RAG_TEMPLATE: Final = """### Task:
Respond to the user query using the provided context, incorporating inline citations in the format [id] **only when the <source> tag includes an explicit id attribute** (e.g., <source id="1">).

### Guidelines:
- If you don't know the answer, clearly state that.
- If uncertain, ask the user for clarification.
- Respond in the same language as the user's query.
- If the context is unreadable or of poor quality, inform the user and provide the best possible answer.
- If the answer isn't present in the context but you possess the knowledge, explain this to the user and provide the answer using your own understanding.
- **Only include inline citations using [id] (e.g., [1], [2]) when the <source> tag includes an id attribute.**
- Do not cite if the <source> tag does not contain an id attribute.
- Do not use XML tags in your response.
- Ensure citations are concise and directly related to the information provided.

### Example of Citation:
If the user asks about a specific topic and the information is found in a source with a provided id attribute, the response should include the citation like in the following example:
* "According to the study, the proposed method increases efficiency by 20% [1]."

### Output:
Provide a clear and direct response to the user's query, including inline citations in the format [id] only when the <source> tag with id attribute is present in the context.

<context>
{{CONTEXT}}
</context>
"""

# open_webui/config.py, 0.12.4, verbatim (the line "Strictly return in JSON format: " ends in a space).
DEFAULT_QUERY_GENERATION_PROMPT_TEMPLATE: Final = """### Task:
Analyze the chat history to determine the necessity of generating search queries, in the given language. By default, **prioritize generating 1-3 broad and relevant search queries** unless it is absolutely certain that no additional information is required. The aim is to retrieve comprehensive, updated, and valuable information even with minimal uncertainty. If no search is unequivocally needed, return an empty list.

### Guidelines:
- Respond **EXCLUSIVELY** with a JSON object. Any form of extra commentary, explanation, or additional text is strictly prohibited.
- When generating search queries, respond in the format: { "queries": ["query1", "query2"] }, ensuring each query is distinct, concise, and relevant to the topic.
- If and only if it is entirely certain that no useful results can be retrieved by a search, return: { "queries": [] }.
- Err on the side of suggesting search queries if there is **any chance** they might provide useful or updated information.
- Be concise and focused on composing high-quality search queries, avoiding unnecessary elaboration, commentary, or assumptions.
- Today's date is: {{CURRENT_DATE}}.
- Always prioritize providing actionable and broad queries that maximize informational coverage.

### Output:
Strictly return in JSON format: 
{
  "queries": ["query1", "query2"]
}

### Chat History:
<chat_history>
{{MESSAGES:END:6}}
</chat_history>
"""


Source = dict[str, Any]


# -- sources -------------------------------------------------------------------------------
def file_source(item: Mapping[str, Any], text: str, name: str) -> Source:
    """A file's source with Bypass Embedding and Retrieval on (retrieval/utils.py:
    get_sources_from_items): its whole stored text as one document, no distances."""
    return {
        "source": dict(item),
        "document": [text],
        "metadata": [{"file_id": item.get("id"), "name": name, "source": name}],
    }


def sources_count(sources: Sequence[Mapping[str, Any]]) -> int:
    """The `sources_retrieved` status's count: distinct source names (or ids) over every document."""
    seen: set[Any] = set()
    for source in sources:
        metadatas = source.get("metadata") or []
        info = source.get("source") or {}
        for index, _ in enumerate(source.get("document") or []):
            metadata = metadatas[index] if index < len(metadatas) else None
            seen.add((metadata or {}).get("source") or info.get("id") or "N/A")
    return len(seen)


def source_context(sources: Sequence[Mapping[str, Any]], include_content: bool = True) -> str:
    """`<source id="N" name=… resource-type=… resource-id=…>TEXT</source>` per document, N
    numbering distinct sources from 1 (middleware.py:get_source_context; no extra metadata
    attributes: RAG_SOURCE_METADATA_KEYS is empty by default)."""
    ids: dict[Any, int] = {}
    out = ""
    for source in sources:
        info = source.get("source") or {}
        for document, metadata in zip(source.get("document") or [], source.get("metadata") or []):
            key = metadata.get("source") or info.get("id") or "N/A"
            ids.setdefault(key, len(ids) + 1)
            name, kind = info.get("name"), info.get("type")
            resource = info.get("id") if kind != "text" else None
            out += (
                f'<source id="{ids[key]}"'
                + (f' name="{name}"' if name else "")
                + (f' resource-type="{kind}"' if kind else "")
                + (f' resource-id="{resource}"' if resource else "")
                + f">{document if include_content else ''}</source>\n"
            )
    return out


def rag_template(template: str, context: str, query: str) -> str:
    """utils/task.py:rag_template: `{{CONTEXT}}`/`[context]` and `{{QUERY}}`/`[query]` filled,
    a query placeholder inside the context left alone."""
    template = template if template.strip() else DEFAULT_RAG_TEMPLATE
    template = fill_dates(template)
    kept: list[tuple[str, str]] = []
    for placeholder in ("[query]", "{{QUERY}}"):
        if placeholder in context:
            marker = "{{QUERY" + str(uuid.uuid4()) + "}}"
            template = template.replace(placeholder, marker)
            kept.append((marker, placeholder))
    template = template.replace("[context]", context).replace("{{CONTEXT}}", context)
    template = template.replace("[query]", query).replace("{{QUERY}}", query)
    for marker, placeholder in kept:
        template = template.replace(marker, placeholder)
    return template


def apply_sources(
    messages: list[dict[str, Any]], sources: Sequence[Mapping[str, Any]], prompt: Any, template: str = DEFAULT_RAG_TEMPLATE
) -> list[dict[str, Any]]:
    """middleware.py:apply_source_context_to_messages: the filled template put before the
    last user message's text (before **every** text part of a list content), or a user
    message of its own when the last message is not the user's. Nothing without sources or
    without a prompt."""
    if not sources or not prompt:
        return messages
    context = source_context(sources).strip()
    if not context:
        return messages
    filled = rag_template(template, context, str(prompt))
    if messages and messages[-1].get("role") == "user":
        messages[-1] = prepend_text(messages[-1], filled)
    else:
        messages.append({"role": "user", "content": filled})
    return messages


# -- the <attached_files> block ----------------------------------------------------------------
def attached_files_block(files: Sequence[Mapping[str, Any]]) -> str:
    """The block for a user message's files ("" when none counts): files addressed by an id
    or URL, never images sent as data URLs (middleware.py:add_file_context)."""
    tags = [_file_tag(f) for f in files if _addressed(f)]
    return "<attached_files>\n" + "\n".join(tags) + "\n</attached_files>\n\n" if tags else ""


def add_file_context(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every user message with `files` gets its block in front of its content (a text part of
    its own when the content is a list); `files` is taken off every message."""
    for message in messages:
        files = message.pop("files", None) or []
        block = attached_files_block(files) if message.get("role") == "user" else ""
        if not block:
            continue
        content = message.get("content", "")
        if isinstance(content, list):
            message["content"] = [{"type": "text", "text": block}, *content]
        else:
            message["content"] = block + (content or "")
    return messages


def _addressed(file: Mapping[str, Any]) -> bool:
    url = file.get("url")
    return bool(url and not str(url).startswith("data:")) or (file.get("type") == "chat" and bool(file.get("id")))


def _file_tag(file: Mapping[str, Any]) -> str:
    attrs = f'type="{file.get("type", "file")}" id="{file.get("id") or file.get("url")}"'
    if file.get("url"):
        attrs += f' url="{file["url"]}"'
    if file.get("content_type"):
        attrs += f' content_type="{file["content_type"]}"'
    if file.get("name"):
        attrs += f' name="{file["name"]}"'
    return f"<file {attrs}/>"


# -- retrieval query generation ------------------------------------------------------------------
def query_prompt(messages: Sequence[Mapping[str, Any]], template: str = DEFAULT_QUERY_GENERATION_PROMPT_TEMPLATE) -> str:
    """utils/task.py:query_generation_template: the chat (its last six messages, each by its
    first text part) and today's date."""
    return fill_dates(render(template, messages))


def parse_queries(answer: str | None) -> list[Any]:
    """The task's answer read as chat_completion_files_handler reads it: the JSON from the last
    `{` to the last `}`, its `queries`; an answer without one is a single query; no answer, none."""
    if answer is None:
        return []
    start, end = answer.rfind("{"), answer.rfind("}") + 1
    try:
        if start == -1 or end == 0:
            raise ValueError("no JSON object")
        parsed = json.loads(answer[start:end])
    except (ValueError, RecursionError):
        parsed = {"queries": [answer]}
    if not isinstance(parsed, dict):
        return []
    queries = parsed.get("queries", [])
    return queries if isinstance(queries, list) else []


def last_user_prompt(messages: Sequence[Mapping[str, Any]]) -> Any:
    """misc.py:get_last_user_message: the last user message's text (its first text part)."""
    return next((content_text(m) for m in reversed(messages) if m.get("role") == "user"), None)


def fill_dates(template: str) -> str:
    """utils/task.py:prompt_template's date and time variables (the user ones are not used by
    these templates)."""
    now = datetime.now()
    date = now.strftime("%Y-%m-%d")
    return (
        template.replace("{{CURRENT_DATE}}", date)
        .replace("{{CURRENT_TIME}}", now.strftime("%I:%M:%S %p"))
        .replace("{{CURRENT_DATETIME}}", f"{date} {now.strftime('%I:%M:%S %p')}")
        .replace("{{CURRENT_WEEKDAY}}", now.strftime("%A"))
    )
