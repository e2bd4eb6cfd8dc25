"""The `open_webui` modules published pipes import, each imported the way they import it,
inside a pipe run by a host: `internal.db`, `routers.files`, `utils.tools`, `config`
(PersistentConfig), `main.app`, `utils.plugin`, `utils.logger`, `models.tools`."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.local_host import LocalHost
from tests.tracing import ORACLE_METADATA, collect, replier
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.reply.builder import reply_from_steps
from tuichat.store import Store


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


async def answer(host: PipeHost | LocalHost, library: FunctionLibrary, source: str, *, model: str = "p", replies: Any = None) -> Any:
    """Add the pipe, call it once (non-streaming) and give its reply as JSON."""
    await library.add(src(source), function_id="p", replace=True)
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    invocation = await host.invoke(model, body, metadata=dict(ORACLE_METADATA), event_call=replier(replies))
    reply = reply_from_steps(await collect(invocation))
    assert reply.error is None, f"{reply.error}\n{reply.traceback}"
    return json.loads(reply.content)


# -- open_webui.internal.db -------------------------------------------------------------------

USAGE_TABLE = """
    import time
    from sqlalchemy import BigInteger, Column, String, Text
    from open_webui.internal.db import Base, JSONField, engine, get_async_db_context, get_db

    class Usage(Base):
        __tablename__ = "pipe_usage_lookalike"
        id = Column(String, primary_key=True)
        model = Column(Text)
        data = Column(JSONField)
        at = Column(BigInteger)

    Base.metadata.create_all(engine, tables=[Usage.__table__])

    class Pipe:
        async def pipe(self, body, __message_id__=None):
            with get_db() as db:
                db.add(Usage(id=__message_id__, model=body["model"], data={"n": 1}, at=int(time.time())))
                db.commit()
            from sqlalchemy import select
            async with get_async_db_context() as db:
                rows = (await db.execute(select(Usage))).scalars().all()
            return __import__("json").dumps({
                "rows": [[r.id, r.model, r.data] for r in rows],
                "sqlite": "sqlite" in engine.url.drivername,
                "file": engine.url.database,
            })
"""


async def test_internal_db_gives_sqlalchemy_sessions_on_tuichats_database(
    host: PipeHost, library: FunctionLibrary, db_path: Path
) -> None:
    seen = await answer(host, library, USAGE_TABLE)
    assert seen == {"rows": [["oracle-assistant-msg-1", "p", {"n": 1}]], "sqlite": True, "file": str(db_path)}


async def test_internal_db_without_sqlalchemy_imports_and_fails_at_use(
    local_host: LocalHost, local_library: FunctionLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sqlalchemy is hidden in this process's sys.modules: the pipe must run in it too.
    host, library = local_host, local_library
    for name in [m for m in sys.modules if m == "sqlalchemy" or m.startswith("sqlalchemy.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # as if it were not installed
    source = """
        import json
        from open_webui.internal.db import get_db

        class Pipe:
            def pipe(self, body):
                try:
                    with get_db() as db:
                        return "no error"
                except ModuleNotFoundError as exc:
                    return json.dumps({"name": exc.name, "message": str(exc)})
    """
    seen = await answer(host, library, source)
    assert seen["name"] == "sqlalchemy"
    assert "SQLAlchemy is not installed" in seen["message"] and "--install-missing" in seen["message"]


# -- open_webui.routers.files -----------------------------------------------------------------

IMAGE_UPLOAD = """
    import io, json
    from fastapi import BackgroundTasks, UploadFile
    from starlette.datastructures import Headers
    from open_webui.internal.db import get_async_db_context
    from open_webui.models.files import Files
    from open_webui.models.users import Users
    from open_webui.routers.files import upload_file, upload_file_handler
    from open_webui.storage.provider import Storage

    class Pipe:
        async def pipe(self, body, __user__, __request__):
            user = await Users.get_user_by_id(__user__["id"])
            up = await upload_file(
                request=__request__,
                background_tasks=BackgroundTasks(),
                file=UploadFile(file=io.BytesIO(b"PNGDATA"), filename="out.png", headers=Headers({"content-type": "image/png"})),
                process=False,
                user=user,
                metadata={"source": "lookalike"},
            )
            handled = await upload_file_handler(
                request=__request__, file=UploadFile(file=io.BytesIO(b"some text"), filename="notes.txt"),
                metadata={}, process=True, user=user,
            )
            stored = await Files.get_file_by_id(up.id)
            return json.dumps({
                "type": type(up).__name__,
                "url": __request__.app.url_path_for("get_file_content_by_id", id=up.id),
                "meta": {k: stored.meta[k] for k in ("name", "content_type", "size", "data")},
                "data": stored.data,
                "bytes": open(Storage.get_file(stored.path), "rb").read().decode(),
                "named": stored.path.endswith(f"{up.id}_out.png"),
                "processed": [handled["status"], handled["data"]["status"], handled["data"]["content"]],
            })
"""


async def test_routers_files_upload_stores_the_file_and_its_record(host: PipeHost, library: FunctionLibrary) -> None:
    seen = await answer(host, library, IMAGE_UPLOAD)
    assert seen["type"] == "FileModel"
    assert seen["url"].startswith("/api/v1/files/") and seen["url"].endswith("/content")
    assert seen["meta"] == {"name": "out.png", "content_type": "image/png", "size": 7, "data": {"source": "lookalike"}}
    assert seen["data"] == {} and seen["bytes"] == "PNGDATA" and seen["named"]
    assert seen["processed"] == [True, "completed", "some text"]


# -- open_webui.utils.tools -------------------------------------------------------------------

# What langchain-core's convert_to_openai_function gave (through Open WebUI's helpers) for
# the Tools below, recorded with langchain-core 1.4.8, the version Open WebUI 0.12.4 ships.
EXPECTED_SPECS = [
    {"name": "nodoc", "description": "", "parameters": {"properties": {"a": {"type": "string"}, "b": {"additionalProperties": True, "type": "object"}, "c": {"default": [], "items": {"properties": {"x": {"type": "integer"}, "y": {"default": 0, "type": "integer"}}, "required": ["x"], "type": "object"}, "type": "array"}}, "required": ["a", "b"], "type": "object"}},
    {"name": "paint", "description": "Paint something. :param color: the colour", "parameters": {"properties": {"color": {"enum": ["red", "blue"], "type": "string"}, "where": {"properties": {"x": {"type": "integer"}, "y": {"default": 0, "type": "integer"}}, "required": ["x"], "type": "object"}, "mode": {"default": "a", "enum": ["a", "b"], "type": "string"}, "scale": {"type": "number"}, "flag": {"default": False, "type": "boolean"}}, "required": ["color", "where"], "type": "object"}},
    {"name": "search", "description": "Search the web for a query.\nSecond line.", "parameters": {"properties": {"query": {"description": "What to search for", "type": "string"}, "limit": {"default": 5, "description": "How many results\nat most.", "type": "integer"}, "tags": {"items": {"type": "string"}, "type": "array"}}, "required": ["query"], "type": "object"}},
]  # fmt: skip

TOOLS_USER = '''
    import enum, json
    from typing import List, Literal, Optional
    from pydantic import BaseModel
    from open_webui.utils.tools import get_builtin_tools, get_tool_specs, get_tools

    class Color(enum.Enum):
        RED = "red"
        BLUE = "blue"

    class Point(BaseModel):
        x: int
        y: int = 0

    class Tools:
        def search(self, query: str, limit: int = 5, tags: Optional[list[str]] = None, __user__: dict = None) -> str:
            """
            Search the web for a query.
            Second line.

            :param query: What to search for
            :param limit: How many results
                at most.
            :param __user__: the user
            :return: results
            """

        async def paint(self, color: Color, where: Point, mode: Literal["a", "b"] = "a", scale: float | None = None, flag: bool = False):
            """Paint something. :param color: the colour"""

        def nodoc(self, a, b: dict, c: List[Point] = []):
            pass

    class Pipe:
        async def pipe(self, body, __user__, __request__, __event_call__, __metadata__):
            extra = {"__user__": __user__, "__event_call__": __event_call__, "__metadata__": __metadata__}
            builtin = await get_builtin_tools(__request__, extra, features={}, model={})
            questions = [{"id": "q1", "question": "Which?", "options": [
                {"label": "A", "description": "first"}, {"label": "B", "description": "second"}]}]
            asked = await builtin["ask_user"]["callable"](questions=questions)
            stamp = json.loads(await builtin["calculate_timestamp"]["callable"](days_ago="2"))
            return json.dumps({
                "specs": get_tool_specs(Tools()),
                "tools": await get_tools(__request__, ["web_search"], None, extra),
                "builtin": {name: [t["tool_id"], t["type"], t["spec"]["name"]] for name, t in builtin.items()},
                "asked": json.loads(asked),
                "two_days": stamp["current_timestamp"] - stamp["calculated_timestamp"],
            })
'''


async def test_utils_tools_specs_builtin_tools_and_no_stored_tools(host: PipeHost, library: FunctionLibrary) -> None:
    seen = await answer(host, library, TOOLS_USER, replies=[{"answers": {"q1": "A"}}])
    assert seen["specs"] == EXPECTED_SPECS
    assert seen["tools"] == {}
    assert seen["builtin"] == {
        "get_current_timestamp": ["builtin:get_current_timestamp", "builtin", "get_current_timestamp"],
        "calculate_timestamp": ["builtin:calculate_timestamp", "builtin", "calculate_timestamp"],
        "ask_user": ["builtin:ask_user", "builtin", "ask_user"],
    }
    assert seen["asked"] == {"status": "answered", "answers": {"q1": "A"}}
    assert seen["two_days"] == 2 * 86400


async def test_ask_user_sends_a_request_user_input_event_call(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src(TOOLS_USER), function_id="p")
    body = {"model": "p", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    invocation = await host.invoke("p", body, metadata=dict(ORACLE_METADATA), event_call=replier([{"status": "cancelled"}]))
    steps = await collect(invocation)
    calls = [step.to_json() for step in steps if "call" in step.to_json()]
    assert len(calls) == 1 and calls[0]["call"]["type"] == "request:user_input"
    assert calls[0]["call"]["data"]["questions"][0]["header"] == "Question 1"
    assert json.loads(reply_from_steps(steps).content)["asked"] == {"status": "cancelled", "answers": {}}


# -- open_webui.config and open_webui.main ------------------------------------------------------

CONFIG_READER = """
    import json
    from open_webui.config import PERSISTENT_CONFIG_REGISTRY, TOOL_SERVER_CONNECTIONS, PersistentConfig, get_config, save_config
    from open_webui.main import app

    MY_SETTING = PersistentConfig("MY_PIPE_SETTING", "my_pipe.setting", "default")

    class Pipe:
        def pipes(self):
            return [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]

        def pipe(self, body, __request__):
            config = __request__.app.state.config
            names = {item.env_name for item in PERSISTENT_CONFIG_REGISTRY}
            before = MY_SETTING.value
            save_config({**get_config(), "my_pipe": {"setting": "saved"}})
            return json.dumps({
                "same_app": app is __request__.app,
                "models": sorted(app.state.MODELS),
                "base_models": [m["id"] for m in app.state.BASE_MODELS],
                "functions": sorted(app.state.FUNCTIONS),
                "registered": {"MY_PIPE_SETTING", "TOOL_SERVER_CONNECTIONS"} <= names,
                "tool_servers": [TOOL_SERVER_CONNECTIONS, config.TOOL_SERVER_CONNECTIONS],
                "missing": getattr(config, "NOT_A_SETTING", "absent"),
                "setting": [before, MY_SETTING.value],
                "starlette_state": sorted(app.state._state)[:3],
            })
"""


async def test_config_registry_and_the_app_state_pipes_read(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(src(CONFIG_READER), function_id="p")
    await host.list_models()
    seen = await answer(host, library, CONFIG_READER, model="p.a")
    assert seen == {
        "same_app": True,
        "models": ["p.a", "p.b"],
        "base_models": ["p.a", "p.b"],
        "functions": ["p"],
        "registered": True,
        "tool_servers": [[], []],
        "missing": "absent",
        "setting": ["default", "saved"],
        "starlette_state": ["BASE_MODELS", "FUNCTIONS", "FUNCTION_CONTENTS"],
    }


# -- open_webui.utils.plugin, utils.logger, models.tools ---------------------------------------

SMALL_MODULES = '''
    """
    title: Small Modules
    version: 1.2
    """
    import json
    from loguru import logger
    from open_webui.models.tools import Tools
    from open_webui.utils.logger import stdout_format
    from open_webui.utils.plugin import extract_frontmatter, replace_imports

    class Pipe:
        async def pipe(self, body):
            lines = []
            sink = logger.add(lines.append, format=stdout_format)
            logger.bind(k=1).info("hello")
            logger.remove(sink)
            return json.dumps({
                "frontmatter": extract_frontmatter(open(__file__).read()) if False else extract_frontmatter(__doc__ or ""),
                "rewritten": replace_imports("from utils.misc import x"),
                "tools": [await Tools.get_tools(), Tools.get_tools_by_ids(["x"]), Tools.get_tool_by_id("x") == None],
                "log": lines[0].rstrip().split(" | ", 1)[1],
            })
'''


async def test_plugin_logger_and_tools_table(host: PipeHost, library: FunctionLibrary) -> None:
    seen = await answer(host, library, SMALL_MODULES)
    assert seen["rewritten"] == "from open_webui.utils.misc import x"
    assert seen["tools"] == [[], {}, True]
    assert seen["log"].startswith("INFO     | ") and seen["log"].endswith(' - hello - {"k": 1}')


def test_plugin_frontmatter_is_open_webuis(store: Store) -> None:
    from tuichat.compat.open_webui.utils.plugin import extract_frontmatter
    from tuichat.runtime.loading.frontmatter import extract_frontmatter as tuichats

    for text in ['"""\ntitle: A\nTitle: B\nicon-url: x\n  indented: yes\nurl: http://a:b/c\n"""', '"""title: X\n"""', '\n"""\nx: 1\n"""']:
        assert extract_frontmatter(text) == tuichats(text)
