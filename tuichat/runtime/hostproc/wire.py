"""The frames between the app and its pipe host process, and what travels in them.

A frame is a 4-byte big-endian length and a JSON document (orjson; the `json` module
for what orjson refuses, such as lone surrogates). No pickle: the host runs untrusted
code and the app must never unpickle what it sends. A frame is one of:

    {"id": N, "op": NAME, ...}            a request, from either side
    {"re": N, "ok": VALUE} / {"re": N, "err": ERROR}   its answer
    {"call": N, "b": [STEP, ...]}         steps of the invocation requested as N

Steps are short lists (see `encode_step`): one is sent per chunk, so they stay small.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

import orjson

from tuichat.runtime.errors import FunctionDisabled, FunctionLoadError, InvalidValves, RuntimeErrorBase, UnknownModel
from tuichat.runtime.invocation.trace import CallStep, EventStep, LogStep, RaisedStep, ResponseStep, SseStep, Step
from tuichat.runtime.loading.missing import MissingModule

HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30  # a frame this big is a broken peer, not a message


class HostError(RuntimeErrorBase):
    """An error raised in the host process that has no class of its own here."""


def _fallback(value: Any) -> Any:
    """What a pipe put in an event that JSON has no form for: its data, else its text."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump()
        except Exception:  # noqa: BLE001 - a broken model is shown as text
            pass
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return repr(value)


def dumps(message: Any) -> bytes:
    try:
        return orjson.dumps(message, default=_fallback, option=orjson.OPT_NON_STR_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        # Lone surrogates, integers over 64 bits, cycles: the slow path, which escapes them.
        return json.dumps(message, default=_fallback, ensure_ascii=True, check_circular=False).encode()


def loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def frame(message: Any) -> bytes:
    body = dumps(message)
    return HEADER.pack(len(body)) + body


# -- steps ------------------------------------------------------------------------------
def encode_step(step: Step) -> list[Any]:
    match step:
        case SseStep():
            if step.is_bytes or step.traceback is not None:
                return [0, step.text, step.at, step.is_bytes, step.traceback]
            return [0, step.text, step.at]
        case EventStep():
            return [1, step.event, step.at] if step.source is None else [1, step.event, step.at, step.source]
        case CallStep():
            return [2, step.event, step.reply, step.at] if step.source is None else [2, step.event, step.reply, step.at, step.source]
        case ResponseStep():
            return [3, step.data, step.at, step.traceback]
        case RaisedStep():
            return [4, step.type, step.message, step.traceback, step.at]
        case LogStep():
            return [5, step.record, step.at]
    raise TypeError(f"not a step: {step!r}")


def decode_steps(items: list[list[Any]]) -> list[Step]:
    steps: list[Step] = []
    append = steps.append
    for item in items:
        kind = item[0]
        if kind == 0:
            if len(item) == 3:
                append(SseStep(item[1], False, item[2]))
            else:
                append(SseStep(item[1], item[3], item[2], item[4]))
        elif kind == 1:
            append(EventStep(item[1], item[2], item[3] if len(item) > 3 else None))
        elif kind == 2:
            append(CallStep(item[1], item[2], item[3], item[4] if len(item) > 4 else None))
        elif kind == 3:
            append(ResponseStep(item[1], item[2], item[3]))
        elif kind == 4:
            append(RaisedStep(item[1], item[2], item[3], item[4]))
        elif kind == 5:
            append(LogStep(item[1], item[2]))
    return steps


# -- errors -----------------------------------------------------------------------------
_ERRORS: dict[str, type[RuntimeErrorBase]] = {
    cls.__name__: cls for cls in (UnknownModel, FunctionDisabled, InvalidValves, HostError)
}


def encode_error(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, FunctionLoadError):
        missing = exc.missing
        return {
            "kind": "FunctionLoadError", "message": str(exc), "function_id": exc.function_id, "detail": exc.detail,
            "line": exc.line, "column": exc.column,
            "missing": dataclasses.asdict(missing) if isinstance(missing, MissingModule) else None,
        }  # fmt: skip
    kind = type(exc).__name__ if type(exc).__name__ in _ERRORS else "HostError"
    return {"kind": kind, "message": str(exc) or type(exc).__name__}


def decode_error(data: dict[str, Any]) -> RuntimeErrorBase:
    if data.get("kind") == "FunctionLoadError":
        missing = data.get("missing")
        return FunctionLoadError(
            data.get("function_id", ""), data["message"], data.get("detail") or "",
            line=data.get("line"), column=data.get("column"),
            missing=MissingModule(**missing) if isinstance(missing, dict) else None,
        )  # fmt: skip
    return _ERRORS.get(data.get("kind", ""), HostError)(data.get("message", "the pipe host failed"))
