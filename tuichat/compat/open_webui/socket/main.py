"""`open_webui.socket.main`: the Socket.IO server and its session tables.

tuichat has none of this; the names import so a pipe that uses them only on some
paths still loads, and any use raises NotProvidedError (see tuichat.compat._unavailable).
"""

from tuichat.compat._names import module_getattr
from tuichat.compat._unavailable import unavailable

__all__ = ["get_active_user_ids", "get_event_emitter", "get_event_call"]  # noqa: F822 (made below, by unavailable())

globals().update(unavailable("open_webui.socket.main", *__all__))

__getattr__ = module_getattr(__name__)
