"""`open_webui.models.skills`: the skills table (Open WebUI 0.7's Markdown skills).

tuichat has none of this; the names import so a pipe that uses them only on some
paths still loads, and any use raises NotProvidedError (see tuichat.compat._unavailable).
"""

from tuichat.compat._names import module_getattr
from tuichat.compat._unavailable import unavailable

__all__ = ["Skills", "SkillForm", "SkillMeta", "SkillModel"]  # noqa: F822 (made below, by unavailable())

globals().update(unavailable("open_webui.models.skills", *__all__))

__getattr__ = module_getattr(__name__)
