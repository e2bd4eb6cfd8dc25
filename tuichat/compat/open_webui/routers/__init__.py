"""`open_webui.routers`: the few route handlers published pipes call as functions."""

from tuichat.compat._names import module_getattr

__all__: list[str] = []

__getattr__ = module_getattr(__name__)
