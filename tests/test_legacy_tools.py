"""Legacy function calling (`params.function_calling = "legacy"`) as Open WebUI 0.12.4 does
it, with a real `class Tools` module and a scripted pipe through the real host process: the
function_calling task call, then the tools it picked, their results as sources and the RAG
context of the user message; and each way it goes wrong (no tool picked, an answer that is
no JSON, a task call that fails, an unknown name, a tool that raises or gets wrong
arguments), said in the activity while the turn goes on as in Open WebUI.
(tests/conformance/chat/tools_legacy checks the exact prompt and source against a recording.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuichat.runtime.attachments import read_attachment
from tuichat.runtime.chatpath.legacy_tools import read_calls, selection_messages, tool_result
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.model import Reply
from tuichat.runtime.reply.present import describe_entry
from tuichat.runtime.turn import Turn

# Answers the task call with what follows "|" in the user's text (RAISE: raises); the reply
# call echoes what it got.
SCRIPTED = """
import json

class Pipe:
    def pipe(self, body, __task__=None, __metadata__=None, __tools__=None):
        if __task__ == "function_calling":
            query = body["messages"][-1]["content"].split("Query: ", 1)[1]
            if query.startswith("RAISE"):
                raise RuntimeError("no tool today")
            print("choosing a tool")
            return query.split("|", 1)[1]
        return "ECHO " + json.dumps({"last": body["messages"][-1]["content"], "sources": __metadata__["sources"],
                                     "body_tools": "tools" in body, "tools": sorted(__tools__ or {})})
"""

KIT = '''
class Tools:
    def weather(self, city: str) -> str:
        """
        The weather in a city.
        :param city: the city
        """
        return f"Sunny in {city}"

    async def report(self, topic: str, __event_emitter__=None) -> dict:
        """A report."""
        await __event_emitter__({"type": "status", "data": {"description": f"reporting on {topic}", "done": True}})
        return {"topic": topic, "pages": [1, 2]}

    def boom(self) -> str:
        """Always fails."""
        raise ValueError("tool exploded")

    def nothing(self) -> str:
        """Returns nothing."""
        return ""
'''

LEGACY = {"function_calling": "legacy"}


async def turn(host: PipeHost, text: str) -> Reply:
    run = Turn(host, "scripted", text, save=False, params=LEGACY, tool_ids=["kit"])
    async for _ in run.run():
        pass
    assert run.reply.error is None, run.reply.error
    return run.reply


def echo(reply: Reply) -> dict[str, Any]:
    assert reply.content.startswith("ECHO "), reply.content
    return json.loads(reply.content[5:])


def tool_lines(reply: Reply) -> list[str]:
    """The legacy stage's own lines (a tool's events are tagged with the tool too: `[tool kit
    report] status: ...`, checked through the statuses)."""
    lines = [str(describe_entry(entry)) for entry in reply.activity if entry.kind == "log"]
    return [line.split("\n")[0] for line in lines if line.startswith("[tool")]


async def test_the_picked_tools_run_in_order_and_their_results_are_the_context(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(SCRIPTED, function_id="scripted")
    await library.add(KIT, function_id="kit")
    calls = [
        {"name": "weather", "parameters": {"city": "Berlin", "units": "metric"}},  # an argument it does not take
        {"name": "report", "parameters": {"topic": "rain"}},
        {"name": "boom", "parameters": {}},
        {"name": "forecast", "parameters": {}},  # no such tool
        {"name": "weather", "parameters": {}},  # a missing argument
        {"name": "nothing"},
    ]
    reply = await turn(host, "Plan my day|" + json.dumps({"tool_calls": calls}))
    seen = echo(reply)
    assert (seen["body_tools"], seen["tools"]) == (False, ["boom", "nothing", "report", "weather"])
    names = [s["source"]["name"] for s in seen["sources"]]
    assert names == ["kit/weather", "kit/report", "kit/boom", "kit/weather"]  # `nothing` returned "": no source
    documents = [s["document"][0] for s in seen["sources"]]
    assert documents[0] == "Sunny in Berlin"
    assert json.loads(documents[1]) == {"topic": "rain", "pages": [1, 2]} and documents[1].startswith('{\n  "topic"')
    assert json.loads(documents[2]) == {"error": "tool exploded"}
    assert "missing 1 required positional argument: 'city'" in json.loads(documents[3])["error"]
    assert seen["sources"][0]["metadata"] == [{"source": "kit/weather", "parameters": {"city": "Berlin"}}]
    # One source id per tool name; the template's context, then the typed text.
    last = seen["last"]
    assert '<source id="1" name="kit/weather">Sunny in Berlin</source>\n<source id="2" name="kit/report">' in last
    assert '<source id="3" name="kit/boom">{\n  "error": "tool exploded"\n}</source>\n<source id="1" name="kit/weather">' in last
    assert last.startswith("### Task:\n") and last.endswith("</context>\n\nPlan my day|" + json.dumps({"tool_calls": calls}))
    assert [s["description"] for s in reply.statuses] == ["reporting on rain"]  # the tool's own status
    assert len(reply.sources) == 4  # shown under the reply as citations
    lines = tool_lines(reply)
    assert lines[0].startswith("[tool calling] asked scripted which tool to use (boom, nothing, report, weather) in ")
    assert lines[0].endswith(': it picked weather({"city": "Berlin", "units": "metric"}), report({"topic": "rain"}), '
                             "boom({}), forecast({}), weather({}), nothing({})")  # fmt: skip
    assert lines[1].startswith('[tool kit/weather] called with {"city": "Berlin"} (dropped units: not in its spec) in ')
    assert lines[1].endswith(': "Sunny in Berlin"')
    assert lines[2].startswith('[tool kit/report] called with {"topic": "rain"} in ')
    assert (
        lines[3]
        == "[tool kit/boom] called with {}, raised ValueError: tool exploded; its result is the error (a source, as in Open WebUI)"
    )
    assert lines[4] == '[tool calling] no tool named "forecast" was offered (boom, nothing, report, weather): skipped'
    assert lines[5].startswith("[tool kit/weather] called with {}, raised TypeError: ")
    assert lines[6].startswith("[tool kit/nothing] called with {} in ") and lines[6].endswith(": returned nothing (no source)")
    assert any("[stdout] choosing a tool" in str(describe_entry(e)) for e in reply.activity)  # the task call's output


async def test_no_tool_or_no_answer_leaves_the_message_as_it_was(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(SCRIPTED, function_id="scripted")
    await library.add(KIT, function_id="kit")
    cases = {
        'none|{"tool_calls": []}': ": it picked no tool",
        "prose|I would call the weather tool.": 'its answer holds no JSON object: "I would call the weather tool."',
        "broken|{tool_calls: [weather]}": "its answer is not JSON (Expecting property name enclosed in double quotes",
        "RAISE": "the pipe failed: no tool today (Open WebUI goes on without tools)",
        'nameless|{"tool": "weather"}': '[tool calling] the call {"tool": "weather"} names no tool: skipped',
        'odd|{"tool_calls": ["weather"], "x": 1}': '[tool calling] a tool call it cannot read: "weather"; it and',
        'count|{"tool_calls": 3}': "its tool_calls is not a list: 3 (Open WebUI goes on without tools)",
    }
    for text, said in cases.items():
        reply = await turn(host, text)
        seen = echo(reply)
        assert (seen["last"], seen["sources"], reply.sources) == (text, [], []), text
        lines = tool_lines(reply)
        assert any(said in line for line in lines), (text, lines)


async def test_a_single_call_object_is_read_as_the_call(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(SCRIPTED, function_id="scripted")
    await library.add(KIT, function_id="kit")
    reply = await turn(host, 'one|Sure: {"name": "weather", "parameters": {"city": "Oslo"}} done')
    assert [s["document"] for s in echo(reply)["sources"]] == [["Sunny in Oslo"]]


def test_the_task_prompt_holds_the_specs_history_and_query() -> None:
    tools = {"weather": {"spec": {"name": "weather", "description": "Wetter für\n", "parameters": {}}}}
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": [{"type": "text", "text": "weather?"}, {"type": "image_url", "image_url": {"url": "x"}}]},
    ]
    system, user = selection_messages(messages, tools)
    assert system["content"].startswith('Available Tools: [{"name":"weather","description":"Wetter für\\n","parameters":{}}]\n\n')
    assert 'return an empty array: \n   {\n     "tool_calls": []' in system["content"]
    assert user == {
        "role": "user",
        "content": 'History:\nSYSTEM: """Be brief."""\nUSER: """hi"""\nASSISTANT: """hello"""\nQuery: weather?',
    }
    assert selection_messages([{"role": "user", "content": "q"}], tools)[1]["content"] == "Query: q"


def test_answers_and_results_are_read_as_open_webui_reads_them() -> None:
    assert read_calls('x {"tool_calls": [{"name": "a"}]} y') == [{"name": "a"}]
    assert read_calls('{"tool_calls": []}') == [{"tool_calls": []}]
    assert read_calls('{"tool_calls": "ab"}') == ["a", "b"]  # each stops the run, as there
    assert read_calls('{"name": "a", "parameters": {"b": 1}}') == [{"name": "a", "parameters": {"b": 1}}]
    assert tool_result("t", [1, "x"]) == ('{\n  "results": [\n    1,\n    "x"\n  ]\n}', [], [])
    assert tool_result("t", None) == (None, [], [])
    assert tool_result("t", 0) == ("0", [], [])
    assert tool_result("t", "data:image/png;base64,AAAA") == (
        "t: Image file read successfully.",
        [{"type": "image", "url": "data:image/png;base64,AAAA"}],
        [],
    )
    text, files, _ = tool_result("t", {"img": "data:image/png;base64,AAAA", "n": "ü"})
    assert (json.loads(text), files) == ({"img": "[image]", "n": "ü"}, [{"type": "image", "url": "data:image/png;base64,AAAA"}])
    from fastapi.responses import HTMLResponse

    inline = HTMLResponse("<b>hi</b>", headers={"Content-Disposition": "inline"})
    text, _, embeds = tool_result("card", inline)
    assert (
        embeds == ["<b>hi</b>"] and json.loads(text)["message"] == "card: Embedded UI result is active and visible to the user."
    )
    assert tool_result("card", (inline, "the card shows 3 items")) == ("the card shows 3 items", [], ["<b>hi</b>"])
    assert tool_result("card", HTMLResponse("<i>x</i>")) == ("<i>x</i>", [], [])


async def test_tool_results_come_before_the_files_in_one_context(
    host: PipeHost, library: FunctionLibrary, tmp_path: Path
) -> None:
    await library.add(SCRIPTED, function_id="scripted")
    await library.add(KIT, function_id="kit")
    (tmp_path / "notes.txt").write_text("The code is 4711.\n")
    pick = 'Pick|{"name": "weather", "parameters": {"city": "Berlin"}}'
    run = Turn(host, "scripted", pick, save=False, params=LEGACY, tool_ids=["kit"],
               attachments=[read_attachment(tmp_path / "notes.txt")])  # fmt: skip
    async for _ in run.run():
        pass
    seen = echo(run.reply)
    assert [s["source"]["name"] for s in seen["sources"]] == ["kit/weather", "notes.txt"]
    context = seen["last"].split("<context>\n", 1)[1].split("\n</context>", 1)[0]
    assert context.startswith('<source id="1" name="kit/weather">Sunny in Berlin</source>\n<source id="2" name="notes.txt" ')
    assert context.endswith(">The code is 4711.\n</source>")  # one template for both
    assert seen["last"].endswith(f'name="notes.txt"/>\n</attached_files>\n\n{pick}')
    assert [s.get("action") for s in run.reply.statuses] == ["queries_generated", "sources_retrieved"]
    assert run.reply.statuses[1]["count"] == 1  # the files' count: the tool's source is not one
    # A file_handler tool that gave a result takes the files over: no query call, no file context.
    await library.add(KIT.replace("class Tools:\n", "class Tools:\n    file_handler = True\n"), function_id="kit", replace=True)
    run = Turn(host, "scripted", pick, save=False, params=LEGACY, tool_ids=["kit"],
               attachments=[read_attachment(tmp_path / "notes.txt")])  # fmt: skip
    async for _ in run.run():
        pass
    seen = echo(run.reply)
    assert ([s["source"]["name"] for s in seen["sources"]], run.reply.statuses) == (["kit/weather"], [])
    assert "notes.txt" not in seen["last"].split("</context>")[0]
