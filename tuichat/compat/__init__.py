"""An `open_webui` package for pipes run outside Open WebUI.

Published pipes import `open_webui.*` (helpers, the model tables, settings), many
at module top level, so they must find it. `install()` makes the modules under
`tuichat/compat/open_webui/` importable as `open_webui...`; a host binds them to its
database, data folder and models while its pipes run (see `tuichat.compat.binding`).

    install()
    with bound(CompatHost(tables=SyncStore(db_path), data_dir=data_dir, models=host)):
        ...  # load or run pipes

The finder sits at the end of `sys.meta_path`: an installed Open WebUI is always
found first and wins, whole. Each `open_webui...` name is bound to the very module
object tuichat imported, so state and monkeypatching are shared between the two
names. Never imports textual, nor tuichat's runtime: the host comes in as a
`ModelHost`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

from tuichat.compat._names import (
    ALIAS_ROOT,
    CANONICAL_ROOT,
    canonical_of,
    is_alias,
    missing_module,
    provided_modules,
)
from tuichat.compat.binding import CompatHost, ModelHost, NestedCallFailed, NotInHost, bind, bound

__all__ = [
    "CompatHost",
    "ModelHost",
    "NestedCallFailed",
    "NotInHost",
    "OpenWebUIFinder",
    "bind",
    "bound",
    "install",
    "provided_modules",
]


def install() -> None:
    """Make `import open_webui...` find tuichat's modules. Calling it again does nothing."""
    if not any(isinstance(finder, OpenWebUIFinder) for finder in sys.meta_path):
        sys.meta_path.append(OpenWebUIFinder())


class OpenWebUIFinder(importlib.abc.MetaPathFinder):
    """Finds `open_webui` and its submodules in `tuichat.compat.open_webui`."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if not is_alias(fullname):
            return None
        if fullname != ALIAS_ROOT and not _shim_is_imported():
            return None  # submodules of a real Open WebUI are its own business
        if fullname not in provided_modules():
            raise missing_module(fullname)
        canonical = canonical_of(fullname)
        is_package = hasattr(importlib.import_module(canonical), "__path__")
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(canonical), is_package=is_package
        )


class _AliasLoader(importlib.abc.Loader):
    """Loads an `open_webui...` name as the already imported tuichat module."""

    def __init__(self, canonical: str) -> None:
        self._canonical = canonical
        self._own_spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        module = importlib.import_module(self._canonical)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system has just stamped the alias's spec on the module; the
        # module keeps its own, so tuichat's name still imports and reloads it.
        module.__spec__ = self._own_spec
        if module.__name__ == CANONICAL_ROOT:
            _register_submodules()


def _register_submodules() -> None:
    """Bind every `open_webui.<x>` name now, as `open_webui` itself is bound.

    A shim package's `__path__` is tuichat's folder, so left to itself the path
    finder would find `open_webui.utils.misc` there and run the file a second time
    as a separate module. A name already in `sys.modules` is never searched for.
    """
    for alias in provided_modules():
        sys.modules.setdefault(alias, importlib.import_module(canonical_of(alias)))


def _shim_is_imported() -> bool:
    shim = sys.modules.get(CANONICAL_ROOT)
    return shim is not None and sys.modules.get(ALIAS_ROOT) is shim
