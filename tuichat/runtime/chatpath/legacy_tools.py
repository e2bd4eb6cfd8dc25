"""Legacy function calling (`params.function_calling = "legacy"`), as Open WebUI 0.12.4's
`chat_completion_tools_handler` (utils/middleware.py) does it before the pipe call.

A non-stream call to the chat's own pipe with `__task__ = "function_calling"`, the
tool-selection prompt as its system message and `Query: <last user text>` (after up to
four earlier messages as `History:`) as its user message. Its answer is read from the
first `{` to the last `}`: a `tool_calls` list, or one call object. Each call names a
selected tool and its `parameters`; the tool runs with the parameters its spec declares
(the others are dropped), and what it returns, made a string as Open WebUI's
`process_tool_result` makes it, becomes a source `{source: {name: "TOOL_ID/NAME"},
document: [TEXT], metadata: [{source, parameters}], tool_result: True}` in
`__metadata__["sources"]`, ahead of the files' ones, and with them the RAG context of the
user message (run.py's `_files` applies rag.py's template once for all).

Open WebUI gives up quietly (a debug log) when the answer is empty, not JSON, or the call
fails, and skips a name it does not know: the reply goes on without tools. A tool that
raises, or is called with arguments it cannot take, gives `{"error": str(e)}` as its
result, which becomes a source like any other. tuichat does the same and says each of
these in the activity (`{"tool": NAME, "text", "error"?}` records), never in the statuses,
which must stay Open WebUI's.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tuichat.runtime.chatpath.rag import content_text, last_user_prompt
from tuichat.runtime.chatpath.request import AFTER_INLET_KEYS
from tuichat.runtime.errors import pipe_traceback
from tuichat.runtime.invocation.invoke import Invocation
from tuichat.runtime.invocation.trace import LogStep, RaisedStep, ResponseStep, SseStep, Step

FUNCTION_CALLING_TASK = "function_calling"  # Open WebUI's TASKS.FUNCTION_CALLING

# config.py DEFAULT_TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE, verbatim (the space after
# "empty array:" included).
TOOLS_PROMPT_TEMPLATE = """Available Tools: {{TOOLS}}

Your task is to choose and return the correct tool(s) from the list of available tools based on the query. Follow these guidelines:

- Return only the JSON object, without any additional text or explanation.

- If no tools match the query, return an empty array: 
   {
     "tool_calls": []
   }

- If one or more tools match the query, construct a JSON response containing a "tool_calls" array with objects that include:
   - "name": The tool's name.
   - "parameters": A dictionary of required parameters and their corresponding values.

The format for the JSON response is strictly:
{
  "tool_calls": [
    {"name": "toolName1", "parameters": {"key1": "value1"}},
    {"name": "toolName2", "parameters": {"key2": "value2"}}
  ]
}"""

# The task call gets the request's own metadata (from before process_chat_payload added
# these keys) and no message id, so the pipe has no `__event_emitter__` for it.
_NOT_FOR_TASK = frozenset({*AFTER_INLET_KEYS, "message_id", "include_file_context", "task_id"})
_IMAGE_DATA_URL = re.compile(r"data:image/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/]+={0,2}", re.IGNORECASE)
_SHOWN = 160  # characters of a task answer or a tool result quoted in the activity

MakePipe = Callable[[dict[str, Any], dict[str, Any]], Invocation]
Emit = Callable[[Any], Awaitable[Any]]
Report = Callable[[dict[str, Any]], None]


def is_legacy(metadata: dict[str, Any]) -> bool:
    return (metadata.get("params") or {}).get("function_calling") == "legacy"


@dataclass
class LegacyOutcome:
    """What the tool stage gives the turn: the sources (in call order) and whether a
    `file_handler` tool took the files over (Open WebUI then drops `metadata["files"]`)."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    skip_files: bool = False


def selection_messages(messages: list[dict[str, Any]], tools: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The task call's messages (`get_tools_function_calling_payload`)."""
    specs = json.dumps([tool.get("spec", {}) for tool in tools.values()], ensure_ascii=False, separators=(",", ":"))
    query = last_user_prompt(messages)
    if query is not None and messages and messages[-1].get("role") == "user":
        messages = messages[:-1]  # the query is said once, after the history
    recent = messages[-4:]
    history = "\n".join(f'{str(m.get("role")).upper()}: """{content_text(m)}"""' for m in recent)
    prompt = f"History:\n{history}\nQuery: {query}" if history else f"Query: {query}"
    return [
        {"role": "system", "content": TOOLS_PROMPT_TEMPLATE.replace("{{TOOLS}}", specs)},
        {"role": "user", "content": prompt},
    ]


def task_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in metadata.items() if k not in _NOT_FOR_TASK}, "task": FUNCTION_CALLING_TASK}


async def task_answer(invocation: Invocation, forward: Callable[[Step], None]) -> tuple[str | None, str | None]:
    """`(content, problem)`: `choices[0].message.content` of the call's answer, or why
    there is none. What the pipe printed or logged is forwarded to the turn's activity.
    Stops reading at the answer: tasks the pipe started keep running, unwaited for."""
    problem: str | None = "the pipe gave no answer"
    batches = invocation.batches()
    try:
        async for batch in batches:
            for step in batch:
                if isinstance(step, LogStep):
                    forward(step)
                elif isinstance(step, RaisedStep):
                    return None, f"the pipe raised {step.type}: {step.message}"
                elif isinstance(step, ResponseStep):
                    return _answer_content(step.data)
                elif isinstance(step, SseStep):
                    problem = "the pipe answered with a stream (a task call is not streamed)"
    finally:
        await batches.aclose()  # (stops waiting for late events now, not when collected)
    return None, problem


def _answer_content(data: Any) -> tuple[str | None, str | None]:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        error = data.get("error") if isinstance(data, dict) else None
        detail = error.get("detail", error) if isinstance(error, dict) else error
        return None, f"the pipe failed: {detail}" if error else f"its answer is no chat completion: {_quote(data)}"
    if not content:
        return None, "its answer is empty"
    if not isinstance(content, str):
        return None, f"its answer's content is no text: {_quote(content)}"
    return content, None


def read_calls(content: str) -> list[Any]:
    """The tool calls in a task answer; ValueError (saying why) when it holds none Open WebUI
    would read. `{"tool_calls": []}` or an object without one: the object itself is the call."""
    text = content[content.find("{") : content.rfind("}") + 1]
    if not text:
        raise ValueError(f"its answer holds no JSON object: {_quote(content)}")
    try:
        result = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"its answer is not JSON ({exc}): {_quote(text)}") from None
    if not isinstance(result, dict):  # (a `{...}` that parses is an object)
        raise ValueError(f"its answer is not a JSON object: {_quote(text)}")
    calls = result.get("tool_calls")
    if not calls:
        return [result]
    if not isinstance(calls, (list, tuple, str, dict)):  # (Open WebUI's `for` fails on it)
        raise ValueError(f"its tool_calls is not a list: {_quote(calls)}")
    return list(calls)  # (a string's or object's items are no calls: the first stops the run)


async def run_legacy(
    messages: list[dict[str, Any]],
    metadata: dict[str, Any],
    tools: dict[str, dict[str, Any]],
    *,
    make_pipe: MakePipe,
    forward: Callable[[Step], None],
    emit: Emit,
    report: Report,
) -> LegacyOutcome:
    """The task call, then each call it asks for, in order."""
    outcome = LegacyOutcome()
    model = metadata.get("model_id") or (metadata.get("model") or {}).get("id")
    body = {"model": model, "messages": selection_messages(messages, tools), "stream": False}
    began = time.monotonic()
    content, problem = await task_answer(make_pipe(body, task_metadata(metadata)), forward)
    took = _ms(began)
    offered = ", ".join(tools)
    if content is None:
        report({"tool": "", "error": f"no tool ran: asked {model} which tool to use ({offered}); {problem} "
                "(Open WebUI goes on without tools)", "ms": took})  # fmt: skip
        return outcome
    try:
        calls = read_calls(content)
    except ValueError as exc:
        report({"tool": "", "error": f"no tool ran: asked {model} which tool to use ({offered}); {exc} "
                "(Open WebUI goes on without tools)", "ms": took})  # fmt: skip
        return outcome
    report({"tool": "", "text": f"asked {model} which tool to use ({offered}) in {_ms_text(took)}: "
            f"it picked {_picked(calls)}", "ms": took})  # fmt: skip
    for call in calls:
        if not isinstance(call, dict) or isinstance(call.get("name"), (list, dict)):
            # Open WebUI's handler fails on it (`.get` of a non-dict, an unhashable name) and runs no later call.
            report({"tool": "", "error": f"a tool call it cannot read: {_quote(call)}; it and the calls after it did not run"})
            break
        await _run_call(call, tools, outcome, emit, report)
    return outcome


async def _run_call(
    call: dict[str, Any], tools: dict[str, dict[str, Any]], outcome: LegacyOutcome, emit: Emit, report: Report
) -> None:
    name = call.get("name")
    if name is None:
        if "tool_calls" not in call:  # (`{"tool_calls": []}`: it picked none, already said)
            report({"tool": "", "text": f"the call {_quote(call)} names no tool: skipped"})
        return
    if not isinstance(name, str) or name not in tools:
        report({"tool": "", "text": f"no tool named {_quote(name)} was offered ({', '.join(tools)}): skipped"})
        return
    tool = tools[name]
    params: Any = call.get("parameters", {})
    label = f"{tool.get('tool_id')}/{name}" if tool.get("tool_id") else name
    began = time.monotonic()
    error: str | None = None
    trace = ""
    dropped: list[str] = []
    try:
        allowed = tool.get("spec", {}).get("parameters", {}).get("properties", {}).keys()
        taken = {key: value for key, value in params.items() if key in allowed}  # (not a dict: raises, as there)
        dropped, params = [str(key) for key in params if key not in allowed], taken
        # Unlisted: this stage lists each call itself, with what it dropped from the arguments.
        result = await getattr(tool["callable"], "unlisted", tool["callable"])(**params)
    except Exception as exc:
        result, error = {"error": str(exc)}, f"{type(exc).__name__}: {exc}"
        trace = pipe_traceback(exc)  # the tool's own frames
    text, files, embeds = tool_result(name, result)
    if files:
        await emit({"type": "files", "data": {"files": files}})
    if embeds:
        await emit({"type": "embeds", "data": {"embeds": embeds}})
    record: dict[str, Any] = {"tool": label, "ms": _ms(began)}
    said = f"called with {_quote(params)}" + (f" (dropped {', '.join(dropped)}: not in its spec)" if dropped else "")
    if error is not None:
        record |= {"error": f"{said}, raised {error}; its result is the error (a source, as in Open WebUI)", "traceback": trace}
    elif text:
        record["text"] = f"{said} in {_ms_text(record['ms'])}: {_quote(text)}"
    else:
        record["text"] = f"{said} in {_ms_text(record['ms'])}: returned nothing (no source)"
    report(record)
    if not text:
        return
    outcome.sources.append({
        "source": {"name": label},
        "document": [text],
        "metadata": [{"source": label, "parameters": params}],
        "tool_result": True,
    })  # fmt: skip
    if tool.get("metadata", {}).get("file_handler", False):
        outcome.skip_files = True


async def emit_sources(sources: list[dict[str, Any]], emit: Emit) -> None:
    """The tool results into the reply's sources (Open WebUI sends the named ones with the
    first `chat:completion`)."""
    for source in sources:
        await emit({"type": "source", "data": source})


def tool_result(name: str, result: Any) -> tuple[str | None, list[dict[str, Any]], list[Any]]:
    """`(text, files, embeds)`: Open WebUI's `process_tool_result` for a local tool (no MCP,
    tool server or direct tool here): an `HTMLResponse` shown inline becomes an embed, a
    data-URL image a file, lists and dicts JSON with an indent of 2, anything else `str`."""
    embeds: list[Any] = []
    context: Any = None
    if isinstance(result, tuple) and len(result) == 2 and _is_html_response(result[0]):
        result, context = result
    if _is_html_response(result):
        result = _html_result(name, result, context, embeds)
    files: list[dict[str, Any]] = []
    if isinstance(result, str) and result.startswith("data:image/"):
        files.append({"type": "image", "url": result})
        result = f"{name}: Image file read successfully."
    result = _images_out(result, files)
    if isinstance(result, list):
        result = {"results": result}
    if isinstance(result, dict):
        result = json.dumps(result, indent=2, ensure_ascii=False, default=str)
    if isinstance(result, tuple):
        result = json.dumps(result[0], indent=2, ensure_ascii=False, default=str) if result else ""
    elif result is not None and not isinstance(result, str):
        result = str(result)
    return result, files, embeds


def _is_html_response(value: Any) -> bool:
    return type(value).__name__ == "HTMLResponse" and hasattr(value, "body") and hasattr(value, "headers")


def _html_result(name: str, response: Any, context: Any, embeds: list[Any]) -> Any:
    body = response.body.decode("utf-8", "replace")
    if "inline" not in response.headers.get("Content-Disposition", ""):
        return body
    embeds.append(body)
    status = int(getattr(response, "status_code", 200))
    if 200 <= status < 300:
        if isinstance(context, (str, dict, list)):
            return context
        return {
            "status": "success",
            "code": "ui_component",
            "message": f"{name}: Embedded UI result is active and visible to the user.",
        }
    kind = "Client error" if 400 <= status < 500 else "Server error" if 500 <= status < 600 else "Unexpected status code"
    where = "from embedded UI result."
    return {"status": "error", "code": "ui_component", "message": f"{name}: {kind} {status} {where}"}


def _images_out(value: Any, files: list[dict[str, Any]]) -> Any:
    """`extract_base64_images`: base64 image data URLs anywhere in the result become files."""
    if isinstance(value, str):
        if _IMAGE_DATA_URL.fullmatch(value):
            files.append({"type": "image", "url": value})
            return "[image]"
        return value
    if isinstance(value, dict):
        return {key: _images_out(item, files) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_images_out(item, files) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _picked(calls: list[Any]) -> str:
    named = [c for c in calls if isinstance(c, dict) and c.get("name") is not None]
    if not named:
        return "no tool"
    return ", ".join(f"{c.get('name')}({_quote(c.get('parameters', {}))})" for c in named)


def _quote(value: Any) -> str:
    """A value for an activity line: JSON (a string in quotes), on one line, cut to _SHOWN."""
    text = " ".join(json.dumps(value, ensure_ascii=False, default=str).split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _ms(began: float) -> float:
    return round((time.monotonic() - began) * 1000, 3)


def _ms_text(ms: float) -> str:
    return f"{ms:.2g} ms" if ms < 10 else f"{ms:,.0f} ms"
