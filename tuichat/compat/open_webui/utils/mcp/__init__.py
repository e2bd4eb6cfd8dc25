"""`open_webui.utils.mcp`: a package of Open WebUI's server tuichat names only (see its modules)."""

from tuichat.compat._names import module_getattr

__all__: list[str] = []

__getattr__ = module_getattr(__name__)
