"""Helpers to run a pipe and compare its trace with a recorded Open WebUI trace."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.invoke import Invocation
from tuichat.runtime.invocation.trace import Step

UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CREATED = re.compile(r'("created":\s*)\d+')

ORACLE_METADATA = {
    "user_id": "u1",
    "chat_id": "oracle-chat-1",
    "message_id": "oracle-assistant-msg-1",
    "session_id": "oracle-session-1",
}
ORACLE_USER = {"id": "u1", "email": "u@example.com", "name": "User", "role": "admin"}


def normalise(value: Any) -> Any:
    """The conformance README's normalisation: uuid4s read <uuid>, every `created` reads 0."""
    if isinstance(value, str):
        return CREATED.sub(r"\g<1>0", UUID4.sub("<uuid>", value))
    if isinstance(value, dict):
        return {k: 0 if k == "created" and isinstance(v, int) else normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def replier(replies: Iterable[Any] | None):  # type: ignore[no-untyped-def]
    """An `__event_call__` handler giving the replies in order, the last one repeating."""
    queue = list(replies or [])

    async def answer(event: dict[str, Any]) -> Any:
        if not queue:
            return None
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return answer


async def collect(invocation: Invocation) -> list[Step]:
    return [step async for step in invocation]


async def oracle_user(host: PipeHost) -> dict[str, Any]:
    return {**await host.store.users.local(), **ORACLE_USER}


async def trace(host: PipeHost, model: str, message: str, *, stream: bool, replies: Any = None) -> list[dict[str, Any]]:
    body = {"model": model, "messages": [{"role": "user", "content": message}], "stream": stream}
    # direct: the cases called Open WebUI's generate_function_chat_completion, which routes any
    # id to its function (a manifold's bare id included), not the chat, which lists models.
    invocation = await host.invoke(
        model, body, metadata=dict(ORACLE_METADATA), user=await oracle_user(host), event_call=replier(replies), direct=True
    )
    return [normalise(step.to_json()) for step in await collect(invocation)]
