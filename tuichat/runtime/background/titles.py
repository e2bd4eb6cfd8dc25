"""Chat titles made by the chat's own pipe, the way Open WebUI 0.12.4 makes them.

Open WebUI sends the pipe a task call (spec §10.3): a non-stream request whose one
user message is the rendered title prompt, with `__task__ = "title_generation"`.
The answer is parsed as `background_tasks_handler` parses it, and `None` means
"no title": the caller then uses the first message, as Open WebUI does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from tuichat.runtime.background.call import ask, json_object
from tuichat.runtime.background.prompt import last_user_message, render_messages
from tuichat.runtime.background.settings import TITLE, enabled
from tuichat.runtime.host import PipeHost

TITLE_TASK: Final = "title_generation"  # `__task__`, Open WebUI's TASKS.TITLE_GENERATION
# `max_tokens` for a model whose `info.params` sets none, which is every pipe model.
TITLE_MAX_TOKENS: Final = 1000
USER_MESSAGE_TITLE_LENGTH: Final = 100

# open_webui/config.py DEFAULT_TITLE_GENERATION_PROMPT_TEMPLATE, 0.12.4, verbatim.
DEFAULT_TITLE_GENERATION_PROMPT_TEMPLATE: Final = """### Task:
Generate a concise title summarizing the chat history.
### Guidelines:
- The title should clearly represent the main theme or subject of the conversation.
- Keep it short: 2-4 words is best.
- Do not use emojis, quotation marks, or special formatting.
- Write the title in the chat's primary language; default to English if multilingual.
- Prioritize accuracy over creativity.
- Your entire response must consist solely of the JSON object, without any introductory or concluding text.
- The output must be a single, raw JSON object, without any markdown code fences or other encapsulating text.
- Ensure no conversational text, affirmations, or explanations precede or follow the raw JSON output, as this will cause direct parsing failure.
### Output:
JSON format: { "title": "your concise title here" }
### Examples:
- { "title": "Stock Trends" },
- { "title": "Chocolate Chip Cookies" },
- { "title": "Music Streaming" },
- { "title": "Remote Work" }
### Chat History:
<chat_history>
{{MESSAGES:END:2}}
</chat_history>"""


async def generate_title(
    host: PipeHost,
    chat_id: str,
    model_id: str,
    messages: Sequence[Mapping[str, Any]],
) -> str | None:
    """Ask the chat's pipe for a title; None when title generation is off or the pipe
    gives none."""
    if not await enabled(host.store, TITLE):
        return None
    history = [dict(message) for message in messages]  # the pipe may change what it gets
    task_body = {"model": model_id, "messages": history, "chat_id": chat_id}
    text = await ask(host, model_id, TITLE_TASK, title_prompt(history), task_body, extra={"max_tokens": TITLE_MAX_TOKENS})
    return None if text is None else parse_title(text, history)


def title_prompt(messages: Sequence[Mapping[str, Any]]) -> str:
    """The default title prompt with the chat history filled in (it holds no `{{prompt}}`)."""
    return render_messages(DEFAULT_TITLE_GENERATION_PROMPT_TEMPLATE, messages)


def parse_title(text: str, messages: Sequence[Mapping[str, Any]]) -> str | None:
    """Open WebUI's reading of the answer: the JSON object in it; its `title`, else the
    last user message (cut to 100 characters)."""
    parsed = json_object(text)
    if not isinstance(parsed, dict):
        return None
    title = parsed.get("title", _last_user_message(messages))
    # Open WebUI treats any falsy title as none; a non-string one it cannot show either.
    return title if isinstance(title, str) and title else None


def _last_user_message(messages: Sequence[Mapping[str, Any]]) -> Any:
    text = last_user_message(messages)
    if isinstance(text, str) and len(text) > USER_MESSAGE_TITLE_LENGTH:
        return text[:USER_MESSAGE_TITLE_LENGTH] + "..."
    return text
