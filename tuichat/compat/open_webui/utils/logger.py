"""`open_webui.utils.logger`: the loguru console format pipes reuse for their own sinks."""

from __future__ import annotations

import json
from typing import Any

from tuichat.compat._names import module_getattr

__all__ = ["stdout_format"]


def stdout_format(record: Any) -> str:
    """Open WebUI's console line: time | level | module:function:line - message, then the
    record's `extra` as JSON when there is any."""
    if record["extra"]:
        record["extra"]["extra_json"] = json.dumps(record["extra"], default=str)
        extra_format = " - {extra[extra_json]}"
    else:
        extra_format = ""
    return (
        "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | "
        "<level>{level: <8}</level> | "
        "<cyan>{name}</cyan>:<cyan>{function}</cyan>:<cyan>{line}</cyan> - "
        "<level>{message}</level>" + extra_format + "\n{exception}"
    )


__getattr__ = module_getattr(__name__)
