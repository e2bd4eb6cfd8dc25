"""`open_webui.utils.tools`: tool specs and the tools a pipe can hand a model.

tuichat has no tools store, tool servers or terminal servers (yet), so
`get_tools` returns `{}` (what Open WebUI returns for ids it cannot find),
`get_tool_servers` / `get_terminal_servers` return `[]` and `get_terminal_tools`
fails as Open WebUI does for a terminal it does not know.

What works as in Open WebUI 0.12.4:

* the specs: `convert_function_to_pydantic_model` reads a function's signature
  and reST docstring (`:param x: ...`), `get_tool_specs(tools_instance)` gives the
  OpenAI function specs of a `class Tools` instance, `get_builtin_tool_spec(func)`
  one function's, with `clean_openai_tool_schema` applied; the conversion of the
  pydantic model to a spec is langchain-core's `convert_to_openai_function`,
  reimplemented (titles removed, `$ref`s inlined) so that langchain is not needed;
* `get_async_tool_function_and_apply_extra_params` (the callable a tool entry
  holds: the extras frozen in, always awaitable, numbers coerced as Open WebUI does);
* `get_builtin_tools`: of Open WebUI's builtin tools, the ones that need no server
  feature tuichat lacks: `get_current_timestamp`, `calculate_timestamp` (the
  model's `builtinTools.time`) and `ask_user` (`builtinTools.user_input`), which
  asks through `__event_call__` with a `request:user_input` event.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial, update_wrapper
from typing import Any, get_args, get_type_hints

from pydantic import BaseModel, Field, create_model

from tuichat.compat._names import module_getattr
from tuichat.compat.open_webui.utils._builtin_tools import ask_user, calculate_timestamp, get_current_timestamp

__all__ = [
    "ask_user",
    "calculate_timestamp",
    "clean_openai_tool_schema",
    "clean_properties",
    "convert_function_to_pydantic_model",
    "convert_pydantic_model_to_openai_function_spec",
    "get_async_tool_function_and_apply_extra_params",
    "get_builtin_tool_spec",
    "get_builtin_tools",
    "get_current_timestamp",
    "get_functions_from_tool",
    "get_terminal_servers",
    "get_terminal_tools",
    "get_tool_servers",
    "get_tool_specs",
    "get_tools",
    "get_updated_tool_function",
    "parse_description",
    "parse_docstring",
]

log = logging.getLogger(__name__)


# -- the tools a chat has ------------------------------------------------------------


async def get_tools(request: Any, tool_ids: list[str], user: Any, extra_params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{name: {"tool_id", "callable", "spec", ...}}` for `tool_ids`: tuichat stores no tools, so none."""
    if tool_ids:
        log.debug("tuichat has no tools store; tools %s are not available", tool_ids)
    return {}


async def get_tool_servers(request: Any) -> list[dict[str, Any]]:
    return []


async def get_terminal_servers(request: Any) -> list[dict[str, Any]]:
    return []


async def get_terminal_tools(request: Any, terminal_id: str, user: Any, extra_params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    raise RuntimeError(f"Terminal server '{terminal_id}' not found")


async def get_builtin_tools(
    request: Any,
    extra_params: dict[str, Any],
    features: dict[str, Any] | None = None,
    model: dict[str, Any] | None = None,
    is_note_chat: bool = False,
) -> dict[str, dict[str, Any]]:
    """Open WebUI's builtin tools that need nothing tuichat lacks, in Open WebUI's order."""
    model = model or {}
    meta = (model.get("info") or {}).get("meta") or {}
    builtin_tools = meta.get("builtinTools") or {}
    functions: list[Callable[..., Any]] = []
    if builtin_tools.get("time", True):
        functions += [get_current_timestamp, calculate_timestamp]
    if builtin_tools.get("user_input", True):
        functions.append(ask_user)
    metadata = extra_params.get("__metadata__") or {}
    tools: dict[str, dict[str, Any]] = {}
    for func in functions:
        callable_ = await get_async_tool_function_and_apply_extra_params(
            func,
            {
                "__request__": request,
                "__user__": extra_params.get("__user__", {}),
                "__event_emitter__": extra_params.get("__event_emitter__"),
                "__event_call__": extra_params.get("__event_call__"),
                "__metadata__": extra_params.get("__metadata__"),
                "__files__": metadata.get("files") or extra_params.get("__files__") or [],
                "__chat_id__": extra_params.get("__chat_id__"),
                "__message_id__": extra_params.get("__message_id__"),
                "__model_knowledge__": [],
            },
            _introspection(func),
        )
        tools[func.__name__] = {
            "tool_id": f"builtin:{func.__name__}",
            "callable": callable_,
            "spec": get_builtin_tool_spec(func),
            "type": "builtin",
        }
    return tools


# -- calling a tool function ---------------------------------------------------------------


async def get_async_tool_function_and_apply_extra_params(
    function: Callable[..., Any], extra_params: dict[str, Any], function_introspection: Any = None
) -> Callable[..., Awaitable[Any]]:
    """`function` with the extras its signature names frozen in, as an async function
    whose signature lists only the rest (what the model may pass)."""
    if function_introspection is None:
        sig = inspect.signature(function)
        try:
            type_hints = get_type_hints(function)
        except Exception:
            type_hints = {}
    else:
        sig, type_hints = function_introspection

    def coerce_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
        for name, value in kwargs.items():
            if name not in sig.parameters or value is None:
                continue
            annotation = type_hints.get(name, sig.parameters[name].annotation)
            args = set(get_args(annotation))
            if isinstance(value, str) and (annotation is int or args == {int, type(None)}):
                kwargs[name] = int(value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and (annotation is str or args == {str, type(None)}):
                kwargs[name] = str(value)
        return kwargs

    extra_params = {k: v for k, v in extra_params.items() if k in sig.parameters}
    partial_func = partial(function, **extra_params)
    parameters = [p for name, p in sig.parameters.items() if name not in extra_params]
    new_sig = inspect.Signature(parameters=parameters, return_annotation=sig.return_annotation)

    if inspect.iscoroutinefunction(function):

        async def new_function(*args: Any, **kwargs: Any) -> Any:
            return await partial_func(*args, **coerce_kwargs(kwargs))

    else:

        async def new_function(*args: Any, **kwargs: Any) -> Any:
            return partial_func(*args, **coerce_kwargs(kwargs))

    update_wrapper(new_function, function)
    new_function.__signature__ = new_sig  # type: ignore[attr-defined]
    new_function.__function__ = function  # type: ignore[attr-defined]
    new_function.__extra_params__ = extra_params  # type: ignore[attr-defined]
    return new_function


async def get_updated_tool_function(function: Callable[..., Any], extra_params: dict[str, Any]) -> Callable[..., Any]:
    original = getattr(function, "__function__", None)
    frozen = getattr(function, "__extra_params__", None)
    if original is not None and frozen is not None:
        return await get_async_tool_function_and_apply_extra_params(original, {**frozen, **extra_params})
    return function


# -- specs ---------------------------------------------------------------------------------


def parse_description(docstring: str | None) -> str:
    """The docstring's text before its first `:param` or `:return`."""
    if not docstring:
        return ""
    lines = [line.strip() for line in docstring.strip().split("\n")]
    description: list[str] = []
    for line in lines:
        if re.match(r":param", line) or re.match(r":return", line):
            break
        description.append(line)
    return "\n".join(description)


def parse_docstring(docstring: str | None) -> dict[str, str]:
    """`{param: description}` from reST `:param name: text` lines (continuation lines
    joined with a newline); dunder parameters are left out."""
    if not docstring:
        return {}
    param_pattern = re.compile(r":param (\w+):\s*(.*)")
    descriptions: dict[str, str] = {}
    current: str | None = None
    for line in docstring.splitlines():
        line = line.strip()
        match = param_pattern.match(line)
        if match:
            name, text = match.groups()
            current = None if name.startswith("__") else name
            if current:
                descriptions[current] = text
            continue
        if line.startswith(":"):
            current = None
            continue
        if current and line:
            descriptions[current] = "\n".join(filter(None, [descriptions[current], line]))
    return descriptions


def convert_function_to_pydantic_model(func: Callable[..., Any], function_introspection: Any = None) -> type[BaseModel]:
    """A pydantic model named after `func`, one field per parameter, described by its docstring."""
    if function_introspection is None:
        type_hints = get_type_hints(func)
        signature = inspect.signature(func)
    else:
        signature, type_hints = function_introspection
    docstring = func.__doc__
    param_descriptions = parse_docstring(docstring)
    field_defs: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        type_hint = type_hints.get(name, Any)
        default = param.default if param.default is not param.empty else ...
        description = param_descriptions.get(name)
        field_defs[name] = (type_hint, Field(default, description=description)) if description else (type_hint, default)
    model = create_model(func.__name__, **field_defs)
    model.__doc__ = parse_description(docstring)
    return model


def convert_pydantic_model_to_openai_function_spec(model: type[BaseModel]) -> dict[str, Any]:
    """langchain-core's `convert_to_openai_function` for a pydantic model, which Open WebUI uses:
    `{name: title, description, parameters: the JSON schema without titles, $refs inlined}`."""
    schema = _dereference(model.model_json_schema())
    schema.pop("definitions", None)
    schema.pop("$defs", None)
    title = schema.pop("title", "")
    description = schema.pop("description", "")
    return {"name": title, "description": description, "parameters": _rm_titles(schema)}


def _dereference(schema: dict[str, Any]) -> dict[str, Any]:
    definitions = schema.get("$defs", {}) or schema.get("definitions", {})

    def resolve(value: Any, seen: frozenset[str]) -> Any:
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                name = ref.rsplit("/", 1)[-1]
                rest = {k: resolve(v, seen) for k, v in value.items() if k != "$ref"}
                if name in seen or name not in definitions:
                    return rest
                return {**resolve(copy.deepcopy(definitions[name]), seen | {name}), **rest}
            return {k: (v if k in ("$defs", "definitions") else resolve(v, seen)) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(item, seen) for item in value]
        return value

    return resolve(schema, frozenset())


def _rm_titles(kv: dict[str, Any], prev_key: str = "") -> dict[str, Any]:
    new_kv: dict[str, Any] = {}
    for k, v in kv.items():
        if k == "title":
            if isinstance(v, dict) and prev_key == "properties":
                new_kv[k] = _rm_titles(v, k)
        elif isinstance(v, dict):
            new_kv[k] = _rm_titles(v, k)
        else:
            new_kv[k] = v
    return new_kv


def clean_properties(schema: dict[str, Any]) -> None:
    """In place: a single non-null `anyOf` becomes the type, a None default goes, a
    property with no type becomes a string (Open WebUI's schema clean-up)."""
    if not isinstance(schema, dict):
        return
    if "anyOf" in schema:
        non_null = [t for t in schema["anyOf"] if t.get("type") != "null"]
        if len(non_null) == 1:
            schema.update(non_null[0])
            del schema["anyOf"]
        else:
            schema["anyOf"] = non_null
    if "default" in schema and schema["default"] is None:
        del schema["default"]
    if "type" not in schema and "anyOf" not in schema and "properties" not in schema:
        schema["type"] = "string"
    if "properties" in schema:
        for prop in schema["properties"].values():
            clean_properties(prop)
    if "items" in schema:
        clean_properties(schema["items"])


def clean_openai_tool_schema(spec: dict[str, Any]) -> dict[str, Any]:
    cleaned = copy.deepcopy(spec)
    if "parameters" in cleaned:
        clean_properties(cleaned["parameters"])
    return cleaned


@functools.cache
def _introspection(func: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    try:
        type_hints = get_type_hints(func)
    except Exception:
        type_hints = {}
    return inspect.signature(func), type_hints


@functools.cache
def _builtin_spec_json(func: Callable[..., Any]) -> str:
    model = convert_function_to_pydantic_model(func, _introspection(func))
    return json.dumps(clean_openai_tool_schema(convert_pydantic_model_to_openai_function_spec(model)))


def get_builtin_tool_spec(func: Callable[..., Any]) -> dict[str, Any]:
    """The spec of one tool function (a fresh copy: callers change it)."""
    return json.loads(_builtin_spec_json(func))


def get_functions_from_tool(tool: object) -> list[Callable[..., Any]]:
    """A `Tools` instance's public methods (not classes), by name."""
    return [
        getattr(tool, name)
        for name in dir(tool)
        if callable(getattr(tool, name)) and not name.startswith("_") and not inspect.isclass(getattr(tool, name))
    ]


def get_tool_specs(tool_module: object) -> list[dict[str, Any]]:
    """The OpenAI function specs of a `Tools` instance, as Open WebUI stores them."""
    return [
        clean_openai_tool_schema(convert_pydantic_model_to_openai_function_spec(convert_function_to_pydantic_model(func)))
        for func in get_functions_from_tool(tool_module)
    ]


__getattr__ = module_getattr(__name__)
