"""`open_webui.utils.middleware`: Open WebUI's chat pipeline (tool calls, file context, payload and response processing).

tuichat has none of this; the names import so a pipe that uses them only on some
paths still loads, and any use raises NotProvidedError (see tuichat.compat._unavailable).
"""

from tuichat.compat._names import module_getattr
from tuichat.compat._unavailable import unavailable

__all__ = ["process_tool_result", "chat_completion_files_handler", "chat_completion_tools_handler", "add_file_context", "get_system_oauth_token", "process_chat_payload", "process_chat_response"]  # noqa: F822 (made below, by unavailable())

globals().update(unavailable("open_webui.utils.middleware", *__all__))

__getattr__ = module_getattr(__name__)
