"""`open_webui.utils.access_control`: group-based access rules.

tuichat has none of this; the names import so a pipe that uses them only on some
paths still loads, and any use raises NotProvidedError (see tuichat.compat._unavailable).
"""

from tuichat.compat._names import module_getattr
from tuichat.compat._unavailable import unavailable

__all__ = ["has_access", "has_permission", "has_connection_access"]  # noqa: F822 (made below, by unavailable())

globals().update(unavailable("open_webui.utils.access_control", *__all__))

__getattr__ = module_getattr(__name__)
