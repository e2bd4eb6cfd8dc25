"""Which `open_webui` modules and names the shim provides, and the errors for the rest.

The shim's modules live in `tuichat.compat.open_webui` and are also registered as
`open_webui...`. What is provided is read from that package tree itself, so adding
a module file is all it takes to provide one; names starting with `_` are private.
"""

from __future__ import annotations

import dis
import functools
import importlib
import pkgutil
import sys
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any, Final

ALIAS_ROOT: Final = "open_webui"
_CANONICAL_PARENT: Final = "tuichat.compat."
CANONICAL_ROOT: Final = _CANONICAL_PARENT + ALIAS_ROOT

_IMPORT_FROM: Final = dis.opmap["IMPORT_FROM"]
_WHY: Final = "tuichat runs Open WebUI pipes without Open WebUI and does not provide it"


def is_alias(name: str) -> bool:
    return name == ALIAS_ROOT or name.startswith(ALIAS_ROOT + ".")


def canonical_of(alias: str) -> str:
    return _CANONICAL_PARENT + alias


def alias_of(canonical: str) -> str:
    return canonical.removeprefix(_CANONICAL_PARENT)


@functools.cache
def provided_modules() -> tuple[str, ...]:
    """Every `open_webui` module tuichat provides, by its `open_webui...` name, sorted."""
    root = importlib.import_module(CANONICAL_ROOT)
    names = [ALIAS_ROOT]
    for info in pkgutil.walk_packages(root.__path__, prefix=CANONICAL_ROOT + "."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(alias_of(info.name))
    return tuple(sorted(names))


def missing_module(alias: str) -> ModuleNotFoundError:
    provided = ", ".join(provided_modules())
    return ModuleNotFoundError(
        f"No module named {alias!r}: {_WHY}. The open_webui modules it provides are: {provided}.",
        name=alias,
    )


def missing_name(canonical: str, name: str, caller: FrameType | None) -> Exception:
    """The error for `name` missing from the shim module `canonical`, to raise.

    `from module import name` gets an ImportError naming both, as a pipe importing a
    helper tuichat lacks should be told plainly. Everything else (hasattr, getattr
    with a default, inspect, mock, pickle) needs an AttributeError to work, so the
    statement the caller is executing decides which one it gets.
    """
    alias = alias_of(canonical)
    if name.startswith("__") and name.endswith("__"):
        return AttributeError(f"module {alias!r} has no attribute {name!r}")
    offered = ", ".join(public_names(canonical)) or "nothing"
    message = f"cannot import name {name!r} from {alias!r}: {_WHY}. {alias} provides: {offered}."
    if _runs_from_import(caller):
        module = sys.modules.get(canonical)
        return ImportError(message, name=alias, path=getattr(module, "__file__", None))
    return AttributeError(message)


def module_getattr(
    canonical: str, computed: Mapping[str, Callable[[], object]] | None = None
) -> Callable[[str], object]:
    """A module-level `__getattr__` for a shim module: `__getattr__ = module_getattr(__name__)`.

    `computed` names values worked out at each access, such as the data folder of
    the host running the pipe; every other unknown name is an error.
    """
    getters = dict(computed or {})

    def __getattr__(name: str) -> object:
        if name in getters:
            return getters[name]()
        raise missing_name(canonical, name, sys._getframe(1))

    return __getattr__


def public_names(canonical: str) -> list[str]:
    """What a shim module offers: its `__all__`, plus the submodules of a package."""
    module = sys.modules.get(canonical)
    names: list[Any] = list(getattr(module, "__all__", ()))
    prefix = alias_of(canonical) + "."
    names += [
        sub[len(prefix) :]
        for sub in provided_modules()
        if sub.startswith(prefix) and "." not in sub[len(prefix) :]
    ]
    return sorted(set(map(str, names)))


def _runs_from_import(frame: FrameType | None) -> bool:
    """Whether `frame` is executing a `from module import name` statement."""
    if frame is None:
        return False
    code = frame.f_code.co_code
    return 0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_FROM
