"""`open_webui.utils.chat`: a pipe calling another model, routed to tuichat's own models.

As in Open WebUI 0.12.4 (spec §11): async; `user` must be a UserModel (its `.role`
is read, so passing the `__user__` dict fails as it does there); the request's
metadata is merged in, so a nested pipe shares the chat's ids and its events reach
the same reply; `stream=True` gives a StreamingResponse, otherwise a dict. The call
itself is the host's (`tuichat.compat.binding.ModelHost`).
"""

from __future__ import annotations

from typing import Any

from tuichat.compat.binding import current


async def generate_chat_completion(
    request: Any,
    form_data: dict[str, Any],
    user: Any,
    bypass_filter: bool = False,
    bypass_system_prompt: bool = False,
    **_: Any,
) -> Any:
    _ = user.role  # Open WebUI reads it; a dict here fails the same way
    models = current().models
    model_id = form_data["model"]
    if not await models.has_model(model_id):
        raise Exception("Model not found")
    metadata = {**(form_data.get("metadata") or {}), **request.state.metadata}
    body = {key: value for key, value in form_data.items() if key != "metadata"}
    caller = user.model_dump() if hasattr(user, "model_dump") else dict(user)
    if body.get("stream"):
        items = await models.stream_model(request, model_id, body, metadata=metadata, user=caller)
        from starlette.responses import StreamingResponse  # FastAPI's, as Open WebUI returns

        return StreamingResponse(items, media_type="text/event-stream")
    return await models.model_response(request, model_id, body, metadata=metadata, user=caller)


chat_completion = generate_chat_completion
