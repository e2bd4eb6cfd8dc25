"""Loading function modules, frontmatter and import rewriting (spec §2-3, §12 tests 1-12)."""

from __future__ import annotations

import json
import re
import sys
import textwrap
from typing import Any

import pytest

from tests.local_host import LocalHost
from tests.tracing import collect, normalise, trace
from tuichat.runtime.errors import FunctionDisabled, FunctionLoadError
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.trace import RaisedStep, SseStep
from tuichat.runtime.library import FunctionLibrary
from tuichat.runtime.loading.frontmatter import (
    extract_frontmatter,
    parse_requirements,
    replace_imports,
)
from tuichat.runtime.loading.loader import load_module
from tuichat.store import Store


# These tests share live objects with the pipe (modules they inject, the loaded instance and
# its module): the engine runs in this process for them (tests/local_host.py).
@pytest.fixture
def host(local_host: LocalHost) -> LocalHost:
    return local_host


@pytest.fixture
def library(local_library: FunctionLibrary) -> FunctionLibrary:
    return local_library

NO_CLASS = "No Function class found in the module"


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def body(stream: bool, **extra: Any) -> dict[str, Any]:
    return {"model": "p", "messages": [{"role": "user", "content": "hi"}], "stream": stream, **extra}


def chunk(model: str, content: str) -> dict[str, str]:
    data = {
        "id": f"{model}-<uuid>",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "logprobs": None, "finish_reason": None, "delta": {"content": content}}],
        "object": "chat.completion.chunk",
    }
    return {"sse": f"data: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"}


async def answer(host: PipeHost, model: str = "p") -> str:
    """The content of a non-stream call."""
    steps = await trace(host, model, "hi", stream=False)
    assert len(steps) == 1, steps
    return steps[0]["response"]["choices"][0]["message"]["content"]


# -- class selection (test 1) ---------------------------------------------------------


async def test_filter_and_pipe_module_loads_as_pipe(host: PipeHost, library: FunctionLibrary) -> None:
    source = src(
        """
        class Filter:
            def inlet(self, body):
                return body

        class Pipe:
            def pipe(self, body):
                return type(self).__name__
        """
    )
    new = await library.add(source, function_id="p")
    assert new.row.type == "pipe"
    assert new.row.is_active is True
    row = await host.store.functions.get("p")
    assert row is not None
    loaded = await host.load(row)
    assert loaded.type == "pipe"
    assert type(loaded.instance).__name__ == "Pipe"
    assert await answer(host) == "Pipe"


def test_class_order_pipe_filter_action_event() -> None:
    assert load_module("a1", "class Event:\n    pass\nclass Action:\n    pass\n")[1] == "action"
    assert load_module("a2", "class Event:\n    pass\n")[1] == "event"
    assert load_module("a3", "class Action:\n    pass\nclass Filter:\n    pass\n")[1] == "filter"
    instance, kind, frontmatter, module = load_module("a4", "class Filter:\n    pass\nclass Pipe:\n    pass\n")
    assert (type(instance).__name__, kind, frontmatter) == ("Pipe", "pipe", {})
    assert type(instance).__module__ == module.__name__


# -- no class (test 2) ----------------------------------------------------------------


async def test_module_without_class_is_refused_and_nothing_stored(store: Store, library: FunctionLibrary) -> None:
    with pytest.raises(FunctionLoadError) as info:
        await library.add("x = 1\n", function_id="p")
    assert str(info.value) == f"function 'p' failed to load: Exception: {NO_CLASS}"
    assert await store.functions.get("p") is None
    assert await store.functions.count() == 0


async def test_refused_replacement_leaves_the_stored_function_alone(store: Store, library: FunctionLibrary) -> None:
    good = "class Pipe:\n    def pipe(self, body):\n        return 'ok'\n"
    await library.add(good, function_id="p")
    with pytest.raises(FunctionLoadError):
        await library.add("x = 1\n", function_id="p", replace=True)
    row = await store.functions.get("p")
    assert row is not None
    assert (row.content, row.is_active, row.load_error) == (good, True, None)


async def test_stored_module_without_class_is_deactivated_at_listing(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await library.add("class Pipe:\n    def pipe(self, body):\n        return 'ok'\n", function_id="good")
    await store.functions.insert("p", name="Broken", type="pipe", content="x = 1\n", is_active=True)

    listing = await host.list_models()
    assert [m["id"] for m in listing.models] == ["good"]
    assert listing.errors == {"p": f"function 'p' failed to load: Exception: {NO_CLASS}"}

    row = await store.functions.get("p")
    assert row is not None
    assert row.is_active is False
    assert row.load_error is not None
    assert row.load_error.startswith(f"function 'p' failed to load: Exception: {NO_CLASS}")

    # Listed again: still omitted, now as an inactive function with its kept error.
    again = await host.list_models()
    assert [m["id"] for m in again.models] == ["good"]
    assert again.errors == {"p": row.load_error}
    assert [r.id for r in again.inactive] == ["p"]


async def test_stored_module_without_class_fails_a_call_and_is_deactivated(store: Store, host: PipeHost) -> None:
    await store.functions.insert("p", name="Broken", type="pipe", content="x = 1\n", is_active=True)
    steps = await trace(host, "p", "hi", stream=True)
    assert steps == [{"raised": {"type": "Exception", "message": NO_CLASS}}]
    row = await store.functions.get("p")
    assert row is not None and row.is_active is False


# -- __init__ raising (test 3) --------------------------------------------------------

INIT_FAILS = src(
    """
    class Pipe:
        def __init__(self):
            raise RuntimeError("init failed")

        def pipe(self, body):
            return "never"
    """
)


async def test_init_raising_is_refused_by_add(store: Store, library: FunctionLibrary) -> None:
    with pytest.raises(FunctionLoadError) as info:
        await library.add(INIT_FAILS, function_id="p")
    assert str(info.value) == "function 'p' failed to load: RuntimeError: init failed"
    assert 'File "p.py", line 3, in __init__' in info.value.detail
    assert 'raise RuntimeError("init failed")' in info.value.detail
    assert await store.functions.get("p") is None


@pytest.mark.parametrize("stream", [True, False])
async def test_stored_init_raising_fails_the_call_then_is_disabled(store: Store, host: PipeHost, stream: bool) -> None:
    await store.functions.insert("p", name="p", type="pipe", content=INIT_FAILS, is_active=True)
    invocation = await host.invoke("p", body(stream))
    steps = await collect(invocation)
    assert len(steps) == 1
    step = steps[0]
    assert isinstance(step, RaisedStep)
    assert (step.type, step.message) == ("RuntimeError", "init failed")
    assert 'File "p.py", line 3, in __init__' in step.traceback

    row = await store.functions.get("p")
    assert row is not None
    assert row.is_active is False
    assert row.load_error is not None and row.load_error.startswith("function 'p' failed to load: RuntimeError: init failed")

    with pytest.raises(FunctionDisabled) as info:
        await host.invoke("p", body(stream))
    assert "init failed" in str(info.value)

    listing = await host.list_models()
    assert listing.models == []
    assert listing.errors == {"p": row.load_error}


async def test_enable_keeps_a_still_broken_function_disabled(store: Store, library: FunctionLibrary) -> None:
    await store.functions.insert("p", name="p", type="pipe", content=INIT_FAILS, is_active=False)
    with pytest.raises(FunctionLoadError):
        await library.enable("p")
    row = await store.functions.get("p")
    assert row is not None and row.is_active is False
    assert row.load_error is not None and "init failed" in row.load_error
    await store.functions.update("p", content="class Pipe:\n    def pipe(self, body):\n        return 'fixed'\n")
    row = await library.enable("p")
    assert (row.is_active, row.load_error) == (True, None)


# -- module identity (test 4, §2.2-2.3) -----------------------------------------------

IDENTITY = src(
    """
    import os
    import sys

    RAN_MAIN = False
    if __name__ == "__main__":
        RAN_MAIN = True

    class Pipe:
        def pipe(self, body):
            return "|".join(
                [
                    __name__,
                    str(os.path.exists(__file__)),
                    str(sys.modules["function_p"].__name__ == __name__),
                    str(type(self).__module__ == __name__),
                    str(RAN_MAIN),
                ]
            )
    """
)


async def test_module_name_file_and_sys_modules(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(IDENTITY, function_id="p")
    text = await answer(host)
    assert re.fullmatch(r"function_p_[0-9a-f]{32}\|False\|True\|True\|False", text), text
    module = host.cache.cached("p").module  # type: ignore[union-attr]
    assert sys.modules["function_p"] is module
    assert sys.modules[module.__name__] is module
    assert text.split("|")[0] == module.__name__


async def test_pickle_and_forward_refs_work_after_load(host: PipeHost, library: FunctionLibrary) -> None:
    source = src(
        """
        from __future__ import annotations

        import pickle
        from pydantic import BaseModel

        class Item(BaseModel):
            child: Item | None = None
            name: str = "x"

        class Pipe:
            def pipe(self, body):
                item = Item(child=Item(name="inner"))
                back = pickle.loads(pickle.dumps(item))
                return back.child.name
        """
    )
    await library.add(source, function_id="p")
    assert await answer(host) == "inner"


async def test_reload_replaces_the_sys_modules_entries(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(IDENTITY, function_id="p")
    first = (await answer(host)).split("|")[0]
    await store.functions.update("p", content=IDENTITY + "\n# edited\n")
    second = (await answer(host)).split("|")[0]
    assert first != second
    assert first not in sys.modules
    assert sys.modules[second] is sys.modules["function_p"]


# -- instance cache (test 5, §2.3) ----------------------------------------------------

COUNTER = src(
    """
    class Pipe:
        def __init__(self):
            self.calls = 0

        def pipe(self, body):
            self.calls += 1
            return f"calls={self.calls}"
    """
)


async def test_instance_reused_until_the_content_changes(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(COUNTER, function_id="p")
    assert await answer(host) == "calls=1"
    assert await answer(host) == "calls=2"
    await host.list_models()  # listing uses the same cached instance
    assert await answer(host) == "calls=3"

    await store.functions.update("p", content=COUNTER.replace("calls=", "n="))
    assert await answer(host) == "n=1"
    assert await answer(host) == "n=2"


async def test_replacing_through_the_library_builds_a_new_instance(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add(COUNTER, function_id="p")
    assert await answer(host) == "calls=1"
    await library.add(COUNTER + "\n# v2\n", function_id="p", replace=True)
    assert await answer(host) == "calls=1"
    assert await answer(host) == "calls=2"


# -- replace_imports (test 6, §2.4) ---------------------------------------------------


def test_replace_imports_rules() -> None:
    assert replace_imports("from utils.misc import x") == "from open_webui.utils.misc import x"
    assert replace_imports("from apps.webui import y") == "from open_webui.apps.webui import y"
    assert replace_imports("from main import app") == "from open_webui.main import app"
    assert replace_imports("from config import C") == "from open_webui.config import C"
    # no word boundaries: code, comments and string literals alike
    assert replace_imports("from mainframe import y") == "from open_webui.mainframe import y"
    assert replace_imports("# data from main memory") == "# data from open_webui.main memory"
    assert replace_imports("s = 'loaded from config file'") == "s = 'loaded from open_webui.config file'"
    assert replace_imports("x = 'away from utilsville'") == "x = 'away from open_webui.utilsville'"
    # left alone
    assert replace_imports("import utils") == "import utils"
    assert replace_imports("from  utils import a") == "from  utils import a"
    assert replace_imports("From utils import a") == "From utils import a"


async def test_stored_content_is_the_rewritten_text(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    source = src(
        """
        # data from main memory
        NOTE = 'loaded from config file'

        class Pipe:
            def pipe(self, body):
                return NOTE
        """
    )
    new = await library.add(source, function_id="p")
    expected = source.replace("from main memory", "from open_webui.main memory").replace(
        "from config file", "from open_webui.config file"
    )
    assert new.row.content == expected
    row = await store.functions.get("p")
    assert row is not None and row.content == expected
    assert await answer(host) == "loaded from open_webui.config file"


async def test_from_utils_misc_import_works(host: PipeHost, library: FunctionLibrary) -> None:
    """Spec test 6: the rewritten `open_webui.utils.misc` import must resolve."""
    source = src(
        """
        from utils.misc import get_last_user_message

        class Pipe:
            def pipe(self, body):
                return get_last_user_message(body["messages"])
        """
    )
    new = await library.add(source, function_id="p")
    assert "from open_webui.utils.misc import get_last_user_message" in new.row.content
    assert await answer(host) == "hi"


# -- frontmatter (tests 7-11, §3.1) ---------------------------------------------------


def test_frontmatter_basic() -> None:
    text = '"""\ntitle: My Pipe\nauthor: me\nversion: 0.1.0\nrequirements: requests, httpx==0.27\n"""\nclass Pipe: pass\n'
    assert extract_frontmatter(text) == {
        "title": "My Pipe",
        "author": "me",
        "version": "0.1.0",
        "requirements": "requests, httpx==0.27",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"""title: X\nauthor: A\n"""\n', {}),
        ("'''\ntitle: X\n'''\n", {}),
        ('\n"""\ntitle: X\n"""\n', {}),
        ('   """   \ntitle: X\n"""\n', {"title": "X"}),
        ("", {}),
    ],
)
def test_frontmatter_opening_line(text: str, expected: dict[str, str]) -> None:
    assert extract_frontmatter(text) == expected


def test_frontmatter_keys_and_values() -> None:
    text = '"""\nTitle: Upper\nkey2: v\nicon-url: y\n  indented: yes\nurl: http://a:b/c\nno colon\n"""\n'
    assert extract_frontmatter(text) == {"Title": "Upper", "indented": "yes", "url": "http://a:b/c"}


def test_frontmatter_duplicates_empty_and_closing_line() -> None:
    assert extract_frontmatter('"""\ntitle: A\ntitle: B\n"""\n') == {"title": "B"}
    assert extract_frontmatter('"""\ntitle:\n"""\n') == {"title": ""}
    assert extract_frontmatter('"""\ntitle: T\nauthor: Y """\nversion: 2\n') == {"title": "T"}


def test_frontmatter_without_closing_collects_the_whole_file() -> None:
    text = '"""\ntitle: T\n\nclass Pipe:\n    x: int = 1\n    def pipe(self, body):\n        return "a"\n'
    assert extract_frontmatter(text) == {"title": "T", "x": "int = 1"}


async def test_frontmatter_is_stored_as_manifest_and_title_names_the_function(library: FunctionLibrary) -> None:
    source = '"""\ntitle: My Pipe\ndescription: Says ok\nauthor: me\n"""\nclass Pipe:\n    def pipe(self, body):\n        return "ok"\n'
    new = await library.add(source, function_id="p")
    assert new.row.name == "My Pipe"
    assert new.row.meta == {
        "description": "Says ok",
        "manifest": {"title": "My Pipe", "description": "Says ok", "author": "me"},
    }


def test_requirements_split_keeps_duplicates_within_one_string() -> None:
    # Test 12: the duplicate is not removed within one call.
    assert parse_requirements("a, b ,a") == ["a", "b", "a"]
    assert parse_requirements(" , ,") == []
    assert parse_requirements("") == []


# -- tracebacks and syntax errors -----------------------------------------------------


def _code_lines(tb: str) -> list[str]:
    """A traceback without Python's ^^^/~~~ marker lines."""
    return [line for line in tb.splitlines() if line.strip(" ^~")]


async def test_traceback_of_a_raising_generator_names_the_pipe_file(host: PipeHost, library: FunctionLibrary) -> None:
    source = src(
        """
        class Pipe:
            async def pipe(self, body):
                yield "x"
                raise ValueError("kaboom")
        """
    )
    await library.add(source, function_id="p")
    steps = await collect(await host.invoke("p", body(True)))
    assert normalise(steps[0].to_json()) == chunk("p", "x")
    raised = steps[-1]
    assert isinstance(raised, RaisedStep)
    assert _code_lines(raised.traceback) == [
        "Traceback (most recent call last):",
        '  File "p.py", line 4, in pipe',
        '    raise ValueError("kaboom")',
        "ValueError: kaboom",
    ]


async def test_traceback_of_an_error_line_names_the_pipe_file(host: PipeHost, library: FunctionLibrary) -> None:
    source = src(
        """
        class Pipe:
            def pipe(self, body):
                return helper(1)

        def helper(x):
            return {}["missing"]
        """
    )
    await library.add(source, function_id="p")
    steps = await collect(await host.invoke("p", body(True)))
    assert len(steps) == 1
    step = steps[0]
    assert isinstance(step, SseStep)
    assert step.text == 'data: {"error":{"detail":"\'missing\'"}}\n\n'
    assert step.traceback is not None
    assert _code_lines(step.traceback) == [
        "Traceback (most recent call last):",
        '  File "p.py", line 3, in pipe',
        "    return helper(1)",
        '  File "p.py", line 6, in helper',
        '    return {}["missing"]',
        "KeyError: 'missing'",
    ]


async def test_traceback_of_a_nonstream_error_response(host: PipeHost, library: FunctionLibrary) -> None:
    await library.add("class Pipe:\n    def pipe(self, body):\n        raise KeyError('k')\n", function_id="p")
    steps = await collect(await host.invoke("p", body(False)))
    assert [normalise(s.to_json()) for s in steps] == [{"response": {"error": {"detail": "'k'"}}}]
    assert steps[0].traceback is not None  # type: ignore[union-attr]
    assert _code_lines(steps[0].traceback) == [  # type: ignore[union-attr]
        "Traceback (most recent call last):",
        '  File "p.py", line 3, in pipe',
        "    raise KeyError('k')",
        "KeyError: 'k'",
    ]


async def test_syntax_error_names_line_and_column(store: Store, host: PipeHost, library: FunctionLibrary) -> None:
    source = "class Pipe:\n    def pipe(self, body)\n        return 1\n"
    with pytest.raises(FunctionLoadError) as info:
        await library.add(source, function_id="p")
    try:
        compile(source, "p.py", "exec")
    except SyntaxError as exc:
        expected = f"SyntaxError: {exc.msg} (line 2, column {exc.offset}): def pipe(self, body)"
    assert str(info.value) == f"function 'p' failed to load: {expected}"
    assert 'File "p.py", line 2' in info.value.detail
    assert await store.functions.get("p") is None

    # Stored anyway: the listing reports the same text and the function is disabled.
    await store.functions.insert("p", name="p", type="pipe", content=source, is_active=True)
    listing = await host.list_models()
    assert listing.errors == {"p": f"function 'p' failed to load: {expected}"}
    row = await store.functions.get("p")
    assert row is not None and row.is_active is False
