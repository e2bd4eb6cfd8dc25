"""Chat titles made by the chat's own pipe, the way Open WebUI 0.12.4 makes them.

Open WebUI sends the pipe a task call (spec §10.3): a non-stream request whose one
user message is the rendered title prompt, with `__task__ = "title_generation"`.
With no external task model configured (tuichat has none) the task model is the
chat's own pipe. The answer is parsed as `background_tasks_handler` parses it, and
`None` means "no title": the caller then uses the first message, as Open WebUI does.

    messages = task_messages(await store.chats.messages(chat.id))
    title = await generate_title(host, chat.id, chat.model_id, messages)
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.trace import ResponseStep
from tuichat.store import MessageRow, Store

log = logging.getLogger(__name__)

TITLE_SETTING: Final = "title_generation"  # bool setting; Open WebUI's `task.title.enable`
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

# The `{{MESSAGES}}` forms of utils/task.py:replace_messages_variable that a template
# without `|filters` can hold. The default template uses only {{MESSAGES:END:2}}, and
# none of the `{{prompt}}`, user or date variables, so those are not rendered here.
_MESSAGES_VARIABLE: Final = re.compile(
    r"\{\{MESSAGES\}\}|\{\{MESSAGES:START:(\d+)\}\}|\{\{MESSAGES:END:(\d+)\}\}"
)
# What background_tasks_handler strips from stored messages before a task sees them:
# <details> blocks (reasoning, tool calls) and markdown images.
_DETAILS_AND_IMAGES: Final = re.compile(
    r"<details\b[^<>]*>(?:(?!<details\b).)*?<\/details>|!\[[^\[\]]*\]\([^()]*\)",
    re.DOTALL | re.IGNORECASE,
)


async def title_generation_enabled(store: Store) -> bool:
    return bool(await store.settings.get(TITLE_SETTING, True))


async def generate_title(
    host: PipeHost,
    chat_id: str,
    model_id: str,
    messages: Sequence[Mapping[str, Any]],
) -> str | None:
    """Ask the chat's pipe for a title; None when title generation is off or the pipe
    gives none. Never raises for a failing pipe; cancellation goes through."""
    if not await title_generation_enabled(host.store):
        return None
    history = [dict(message) for message in messages]  # the pipe may change what it gets
    body = {
        "model": model_id,
        "messages": [{"role": "user", "content": title_prompt(history)}],
        "stream": False,
        "max_tokens": TITLE_MAX_TOKENS,
    }
    # No message_id, as in Open WebUI's task metadata: so the pipe gets no
    # __event_emitter__ or __event_call__, only __chat_id__ and __session_id__.
    metadata = {
        "task": TITLE_TASK,
        "task_body": {"model": model_id, "messages": history, "chat_id": chat_id},
        "chat_id": chat_id,
        "session_id": host.session_id,
        "user_id": (await host.store.users.local())["id"],
    }
    answer = await _task_answer(host, model_id, body, metadata)
    text = _answer_text(answer)
    return None if text is None else parse_title(text, history)


def title_prompt(messages: Sequence[Mapping[str, Any]]) -> str:
    """The default title prompt with the chat history filled in."""

    def render(match: re.Match[str]) -> str:
        start, end = match.group(1), match.group(2)
        if start is not None:
            return _messages_content(messages[: int(start)])
        if end is not None:
            return _messages_content(messages[-int(end) :])
        return _messages_content(messages)

    return _MESSAGES_VARIABLE.sub(render, DEFAULT_TITLE_GENERATION_PROMPT_TEMPLATE)


def parse_title(text: str, messages: Sequence[Mapping[str, Any]]) -> str | None:
    """Open WebUI's reading of the answer: the text from the first `{` to the last `}`
    as JSON; its `title`, else the last user message (cut to 100 characters)."""
    candidate = text[text.find("{") : text.rfind("}") + 1]
    try:
        parsed = json.loads(candidate)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None
    title = parsed.get("title", _last_user_message(messages))
    # Open WebUI treats any falsy title as none; a non-string one it cannot show either.
    return title if isinstance(title, str) and title else None


def task_messages(rows: Sequence[MessageRow]) -> list[dict[str, Any]]:
    """Stored messages as a task sees them: role and content, with <details> blocks
    and markdown images removed (background_tasks_handler)."""
    return [
        {"role": row.role, "content": _DETAILS_AND_IMAGES.sub("", row.content).strip()}
        for row in rows
    ]


async def _task_answer(
    host: PipeHost, model_id: str, body: dict[str, Any], metadata: dict[str, Any]
) -> Any:
    """The non-stream result of the call, or None if there is none (the pipe could not
    be loaded, or answered with a stream, which Open WebUI ignores for a task)."""
    answer: Any = None
    try:
        invocation = await host.invoke(model_id, body, metadata=metadata)
        async for step in invocation:
            if isinstance(step, ResponseStep):
                answer = step.data
    except Exception:  # a title is a nicety: nothing a pipe does may break the chat
        # Debug, not warning: with no logging set up a warning lands on stderr, over the TUI.
        log.debug("title generation with %s failed", model_id, exc_info=True)
        return None
    return answer


def _answer_text(answer: Any) -> str | None:
    """`choices[0].message.content`, or its `reasoning_content` when content is empty.

    Open WebUI would then fall back to the last chat message's own content (through
    a loop variable leaking out of a `for`); parsing a reply as if it were the title
    answer is a bug, not behaviour worth copying, so an empty answer is no title.
    """
    if not isinstance(answer, dict):
        return None
    choices = answer.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None  # an {"error": ...} answer lands here too
    message = choices[0].get("message")
    if not isinstance(message, dict):
        return None
    text = message.get("content") or message.get("reasoning_content")
    return text if isinstance(text, str) and text else None


def _messages_content(messages: Sequence[Mapping[str, Any]]) -> str:
    # utils/misc.py:get_messages_content, which formats a missing text as "None".
    return "\n".join(
        f"{str(message.get('role', '')).upper()}: {_content_text(message)}"
        for message in messages
    )


def _content_text(message: Mapping[str, Any]) -> Any:
    # utils/misc.py:get_content_from_message: the first text part of list content.
    # (Its fallback to Responses-style `output` items is left out: chat messages
    # here are always role/content dicts.)
    content = message.get("content")
    if isinstance(content, list):
        return next(
            (
                part.get("text")
                for part in content
                if isinstance(part, dict) and part.get("type") == "text"
            ),
            None,
        )
    return content


def _last_user_message(messages: Sequence[Mapping[str, Any]]) -> Any:
    text = next(
        (_content_text(m) for m in reversed(messages) if m.get("role") == "user"), None
    )
    if isinstance(text, str) and len(text) > USER_MESSAGE_TITLE_LENGTH:
        return text[:USER_MESSAGE_TITLE_LENGTH] + "..."
    return text
