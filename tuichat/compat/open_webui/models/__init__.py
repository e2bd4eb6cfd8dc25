"""`open_webui.models`: Open WebUI's database tables, over tuichat's database."""

from tuichat.compat._names import module_getattr

__all__: list[str] = []

__getattr__ = module_getattr(__name__)
