"""Open WebUI server internals that published pipes import at top level but use only on
some paths: each module is imported the way those pipes import it, the pipe loads and
answers, and a use of any of the names fails clearly, naming it."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.tracing import ORACLE_METADATA, collect, replier
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps

# module -> the names published pipes import from it (found in pipes published on GitHub)
IMPORTED = {
    "open_webui.utils.middleware": ["process_tool_result", "chat_completion_files_handler", "add_file_context", "get_system_oauth_token"],
    "open_webui.main": ["chat_completion_tools_handler"],  # where it was before 0.5
    "open_webui.models.skills": ["Skills", "SkillForm", "SkillMeta"],
    "open_webui.models.groups": ["Groups"],
    "open_webui.models.feedbacks": ["Feedbacks"],
    "open_webui.routers.images": ["upload_image", "get_image_data", "load_b64_image_data"],
    "open_webui.routers.retrieval": ["process_file", "ProcessFileForm"],
    "open_webui.socket.main": ["get_active_user_ids"],
    "open_webui.utils.access_control": ["has_connection_access"],
    "open_webui.utils.headers": ["include_user_info_headers"],
    "open_webui.utils.mcp.client": ["MCPClient"],
}

PIPE = """
{imports}
from typing import Optional


class Pipe:
    async def pipe(self, body, __user__=None, skills: Optional[list[SkillMeta]] = None):
        errors = {{}}
        for name, use in {uses}.items():
            try:
                use()
            except NotImplementedError as error:
                errors[name] = str(error)
        return __import__("json").dumps(errors)
"""


async def run(host: PipeHost, library: FunctionLibrary, source: str) -> Any:
    await library.add(textwrap.dedent(source), function_id="p", replace=True)
    body = {"model": "p", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    invocation = await host.invoke("p", body, metadata=dict(ORACLE_METADATA), event_call=replier(None))
    reply = reply_from_steps(await collect(invocation))
    assert reply.error is None, f"{reply.error}\n{reply.traceback}"
    return json.loads(reply.content)


@pytest.mark.parametrize("module", sorted(IMPORTED))
async def test_each_module_imports_as_published_pipes_import_it_and_fails_at_use(
    host: PipeHost, library: FunctionLibrary, module: str
) -> None:
    names = IMPORTED[module]
    imports = f"from {module} import {', '.join(names)}\nfrom open_webui.models.skills import SkillMeta"
    uses = "{" + ", ".join(f"{n!r}: lambda: {n}.get_by_id('x') if {n!r}[0].isupper() else {n}()" for n in names) + "}"
    errors = await run(host, library, PIPE.format(imports=imports, uses=uses))
    assert sorted(errors) == sorted(names)
    for name in names:
        assert f"{name} is not available in tuichat: it is part of Open WebUI's server" in errors[name]


async def test_a_name_open_webui_never_had_is_still_an_import_error(library: FunctionLibrary) -> None:
    from tuichat.runtime.errors import FunctionLoadError

    with pytest.raises(FunctionLoadError, match="cannot import name 'no_such_helper' from 'open_webui.utils.middleware'"):
        await library.add("from open_webui.utils.middleware import no_such_helper\nclass Pipe:\n    def pipe(self, body): return 'x'\n", function_id="q")
