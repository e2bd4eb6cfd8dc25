"""Chat tags after a chat's first exchange, as Open WebUI 0.12.4 makes them: a task call to
the chat's pipe with the default tags prompt (routers/tasks.py:generate_chat_tags), the
answer's `tags` list stored with the chat (models/chats.py:update_chat_tags_by_id)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from tuichat.runtime.background.call import ask, json_object
from tuichat.runtime.background.prompt import render
from tuichat.runtime.background.settings import TAGS, enabled
from tuichat.runtime.host import PipeHost
from tuichat.store.tags import tag_id

TAGS_TASK: Final = "tags_generation"  # Open WebUI's TASKS.TAGS_GENERATION

# open_webui/config.py, 0.12.4, verbatim.
DEFAULT_TAGS_GENERATION_PROMPT_TEMPLATE: Final = """### Task:
Generate 1-3 broad tags categorizing the main themes of the chat history, along with 1-3 more specific subtopic tags.

### Guidelines:
- Start with high-level domains (e.g. Science, Technology, Philosophy, Arts, Politics, Business, Health, Sports, Entertainment, Education)
- Consider including relevant subfields/subdomains if they are strongly represented throughout the conversation
- If content is too short (less than 3 messages) or too diverse, use only ["General"]
- Use the chat's primary language; default to English if multilingual
- Prioritize accuracy over specificity

### Output:
JSON format: { "tags": ["tag1", "tag2", "tag3"] }

### Chat History:
<chat_history>
{{MESSAGES:END:6}}
</chat_history>"""


async def generate_tags(host: PipeHost, chat_id: str, model_id: str, messages: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """Ask the chat's pipe for tags; None when the setting is off or the answer holds no
    `tags` list (the chat's tags then stay as they are)."""
    if not await enabled(host.store, TAGS):
        return None
    history = [dict(message) for message in messages]
    task_body = {"model": model_id, "messages": history, "chat_id": chat_id}
    text = await ask(host, model_id, TAGS_TASK, render(DEFAULT_TAGS_GENERATION_PROMPT_TEMPLATE, history), task_body)
    return None if text is None else parse_tags(text)


def parse_tags(text: str) -> list[str] | None:
    """The answer's `tags` (a missing key is [] in Open WebUI, which clears the tags), as
    models/chats.py:update_chat_tags_by_id keeps them: "none" dropped, one per id. None
    when the answer holds no list of strings (Open WebUI then changes nothing)."""
    data = json_object(text)
    if not isinstance(data, dict):
        return None
    tags = data.get("tags", [])
    if not isinstance(tags, list) or any(not isinstance(tag, str) for tag in tags):
        return None
    kept: dict[str, str] = {}
    for tag in tags:
        if tag.strip() and tag_id(tag) != "none":
            kept.setdefault(tag_id(tag), tag)
    return list(kept.values())

