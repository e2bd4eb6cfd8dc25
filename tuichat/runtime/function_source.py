"""A function's source read without running it: its type, its syntax, the templates new
functions start from, and the undeclared module a load failed on."""

from __future__ import annotations

import ast
from importlib import resources

from tuichat.runtime.errors import FunctionLoadError
from tuichat.runtime.loading.loader import load_error, source_filename


def guess_type(content: str) -> str:
    """The function type Open WebUI would derive, read without running the code."""
    names = {node.name for node in ast.parse(content).body if isinstance(node, ast.ClassDef)}
    kinds = (("Pipe", "pipe"), ("Filter", "filter"), ("Action", "action"), ("Tools", "tool"))
    return next((kind for cls, kind in kinds if cls in names), "pipe")


def check_syntax(function_id: str, content: str) -> None:
    """A syntax error is reported before anything is installed or stored."""
    try:
        compile(content, source_filename(function_id), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise load_error(function_id, exc) from exc


def template_source(template: str) -> str:
    return resources.files("tuichat.templates").joinpath(f"{template}.py").read_text(encoding="utf-8")


def installable_missing(error: BaseException) -> tuple[str, str] | None:
    """(module, distribution) when a load failed on a module the code imports but does not
    declare, and pip can install it; None for any other error."""
    missing = getattr(error, "missing", None) if isinstance(error, FunctionLoadError) else None
    distribution = getattr(missing, "distribution", None)
    if not distribution:
        return None
    return str(getattr(missing, "module", None) or distribution), str(distribution)
