"""`open_webui.internal` (see `tuichat.compat`)."""

from tuichat.compat._names import module_getattr

__all__: list[str] = []

__getattr__ = module_getattr(__name__)
