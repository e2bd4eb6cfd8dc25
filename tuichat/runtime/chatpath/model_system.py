"""A model's default system prompt (its settings row's `params.system`), applied to the
pipe's request as Open WebUI 0.12.4's `generate_function_chat_completion` does: after the
filters, prepended to the first message when that is a system message (a chat's own system
prompt), else as a new first message; the page's `{{...}}` variables filled in
(`utils/payload.apply_system_prompt_to_body`, `utils/misc.add_or_update_system_message`)."""

from __future__ import annotations

from typing import Any

from tuichat.runtime.chatpath.request import prepend_text


def apply_model_system(body: dict[str, Any], model_row: dict[str, Any] | None, metadata: dict[str, Any]) -> None:
    system = ((model_row or {}).get("params") or {}).get("system")
    messages = body.get("messages")
    if not isinstance(system, str) or not system or not isinstance(messages, list):
        return
    for name, value in (metadata.get("variables") or {}).items():
        system = system.replace(str(name), str(value))
    first = messages[0] if messages else None
    if isinstance(first, dict) and first.get("role") == "system":
        prepend_text(first, system)
    else:
        messages.insert(0, {"role": "system", "content": system})
