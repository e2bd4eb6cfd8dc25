"""A task call: the non-stream request Open WebUI's routers/tasks.py sends the task model
(here the chat's own pipe) and the reading of its answer, shared by every background task."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.trace import ResponseStep

log = logging.getLogger(__name__)


async def ask(
    host: PipeHost,
    model_id: str,
    task: str,
    prompt: str,
    task_body: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
) -> str | None:
    """Send the rendered `prompt` as the one user message, with `__task__ = task`; the
    answer's text, or None. Never raises for a failing pipe; cancellation goes through."""
    chat_id = task_body.get("chat_id")
    body = {"model": model_id, "messages": [{"role": "user", "content": prompt}], "stream": False, **(extra or {})}
    # No message_id, as in Open WebUI's task metadata: so the pipe gets no
    # __event_emitter__ or __event_call__, only __chat_id__ and __session_id__.
    metadata = {
        "task": task,
        "task_body": task_body,
        "chat_id": chat_id,
        "session_id": host.session_id,
        "user_id": (await host.store.users.local())["id"],
    }
    return answer_text(await _answer(host, model_id, body, metadata))


async def _answer(host: PipeHost, model_id: str, body: dict[str, Any], metadata: dict[str, Any]) -> Any:
    """The non-stream result of the call, or None if there is none (the pipe could not
    be loaded, or answered with a stream, which Open WebUI ignores for a task)."""
    answer: Any = None
    try:
        invocation = await host.invoke(model_id, body, metadata=metadata)
        try:
            async for step in invocation:
                if isinstance(step, ResponseStep):
                    answer = step.data
        except asyncio.CancelledError:  # the person sent a message: stop the task now
            # (a pipe that does not stop within 2 s costs its host). Once only: the call may
            # have been cancelled as its consumer left, and a second cancel kills the host.
            if not getattr(invocation, "cancelled", False):
                invocation.cancel()
            raise
    except Exception:  # a background task is a nicety: nothing a pipe does may break the chat
        # Debug, not warning: with no logging set up a warning lands on stderr, over the TUI.
        log.debug("%s with %s failed", metadata["task"], model_id, exc_info=True)
        return None
    return answer


def answer_text(answer: Any) -> str | None:
    """`choices[0].message.content`, or its `reasoning_content` when content is empty.

    Open WebUI would then fall back to the last chat message's own content (through
    a loop variable leaking out of a `for`); parsing a reply as if it were the task's
    answer is a bug, not behaviour worth copying, so an empty answer is none.
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


def json_object(text: str) -> Any:
    """Open WebUI's reading of a task answer: the text from the first `{` to the last `}`
    as JSON; None when that is not JSON."""
    try:
        return json.loads(text[text.find("{") : text.rfind("}") + 1])
    except (ValueError, RecursionError):
        return None
