"""`open_webui.main`: its chat completion handlers, routed to tuichat's own models.

In Open WebUI these run the whole chat pipeline; tuichat has no filters or
background tasks on this path, so they are the same call as
`open_webui.utils.chat.generate_chat_completion`.
"""

from __future__ import annotations

from tuichat.compat.open_webui.utils.chat import generate_chat_completion

generate_chat_completions = generate_chat_completion
chat_completion = generate_chat_completion

__all__ = ["chat_completion", "generate_chat_completion", "generate_chat_completions"]
