"""`open_webui.utils.chat`: a pipe calling another model, routed to tuichat's own models.

As in Open WebUI 0.12.4 (spec §11): async; `user` must be a UserModel (its `.role`
is read, so passing the `__user__` dict fails as it does there); the request's
metadata is merged in, so a nested pipe shares the chat's ids and its events reach
the same reply; `stream=True` gives a StreamingResponse, otherwise a dict.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from tuichat.runtime.invocation.trace import CallStep, EventStep, RaisedStep, ResponseStep, SseStep, Step


class StreamingResponse:
    """Enough of Starlette's StreamingResponse for pipes that read or return one."""

    def __init__(
        self,
        content: AsyncIterator[Any],
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str | None = "text/event-stream",
    ) -> None:
        self.body_iterator = content
        self.status_code = status_code
        self.headers = dict(headers or {})
        self.media_type = media_type


class NestedCallFailed(Exception):
    """The called model raised; carries its exception's type name and message."""


async def generate_chat_completion(
    request: Any,
    form_data: dict[str, Any],
    user: Any,
    bypass_filter: bool = False,
    bypass_system_prompt: bool = False,
    **_: Any,
) -> Any:
    _ = user.role  # Open WebUI reads it; a dict here fails the same way
    app_state = request.app.state
    host = app_state.tuichat_host
    model_id = form_data["model"]
    if model_id not in app_state.MODELS:
        await host.list_models()
    if model_id not in app_state.MODELS:
        raise Exception("Model not found")
    relay = getattr(request, "tuichat_relay", None)
    metadata = {**(form_data.get("metadata") or {}), **request.state.metadata}
    body = {key: value for key, value in form_data.items() if key != "metadata"}
    invocation = await host.invoke(
        model_id,
        body,
        metadata=metadata,
        user=user.model_dump() if hasattr(user, "model_dump") else dict(user),
        event_call=relay.event_call if relay is not None else None,
    )
    steps = _relayed(invocation, relay)
    if body.get("stream"):
        return StreamingResponse(_wire(steps))
    return await _response(steps)


async def _relayed(steps: AsyncIterator[Step], relay: Any) -> AsyncIterator[Step]:
    """The nested call's wire steps; its events and event calls go to the outer reply."""
    async for step in steps:
        if isinstance(step, (EventStep, CallStep)):
            if relay is not None:
                relay.forward(step)
            continue
        yield step


async def _wire(steps: AsyncIterator[Step]) -> AsyncIterator[Any]:
    async for step in steps:
        if isinstance(step, SseStep):
            yield step.text.encode() if step.is_bytes else step.text
        elif isinstance(step, RaisedStep):
            raise NestedCallFailed(step.message)


async def _response(steps: AsyncIterator[Step]) -> Any:
    result: Any = None
    async for step in steps:
        if isinstance(step, ResponseStep):
            result = step.data
        elif isinstance(step, RaisedStep):
            raise NestedCallFailed(step.message)
    return result


chat_completion = generate_chat_completion
