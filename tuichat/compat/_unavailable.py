"""Open WebUI server internals that tuichat names but cannot provide.

Published pipes import some of Open WebUI's server machinery at module top level
(`open_webui.utils.middleware`, `open_webui.models.skills`, the image and retrieval
routers...) and use it only on some paths: a tool call, an uploaded image, a
skill. In Open WebUI such a pipe loads; refusing it at import here would refuse
the whole pipe for one path it may never take. So these names import, and any
use of one (a call, an attribute) raises `NotProvidedError` naming it and saying
why, as `open_webui.internal.db` fails at use without SQLAlchemy.
"""

from __future__ import annotations

from typing import Any

_WHY = "it is part of Open WebUI's server, which tuichat runs pipes without"


class NotProvidedError(NotImplementedError):
    """A pipe used an Open WebUI internal that tuichat does not provide."""


class Unavailable:
    """Stands for one Open WebUI name: importable, unusable (see the module docstring)."""

    def __init__(self, module: str, name: str, why: str = _WHY) -> None:
        self.__qualname__ = self.__name__ = name
        self.__module__ = module
        self._why = why

    def _fail(self) -> NotProvidedError:
        return NotProvidedError(f"{self.__module__}.{self.__name__} is not available in tuichat: {self._why}.")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._fail()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):  # inspect, copy, pickle, typing
            raise AttributeError(name)
        raise self._fail()

    def __getitem__(self, item: Any) -> Any:  # `list[Unavailable]` in an annotation
        return Any

    def __repr__(self) -> str:
        return f"<{self.__module__}.{self.__name__}: not available in tuichat>"


def unavailable(module: str, *names: str, why: str = _WHY) -> dict[str, Unavailable]:
    """The module's stand-ins, to merge into its globals: `globals().update(unavailable(...))`."""
    return {name: Unavailable(module, name, why) for name in names}
