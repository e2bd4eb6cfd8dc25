"""The `open_webui` compatibility package (`tuichat.compat`): spec §11.

The import hook, the pure helpers of `open_webui.utils.misc`, the model tables over
a real tuichat database (awaited and not, on the loop and in worker threads),
settings, and file storage.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import os
import subprocess
import sys
import textwrap
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

import tuichat
from tests.local_host import LocalHost
from tuichat.compat import OpenWebUIFinder, install, provided_modules
from tuichat.compat._awaitable import NOT_FOUND
from tuichat.compat.open_webui.utils import misc
from tuichat.runtime.host import PipeHost
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store
from tuichat.store.users import USER_FIELDS


# These tests share live objects with the pipe (events it waits on, modules they inject, the
# loaded instance, the `open_webui` binding): the engine runs in this process for them
# (tests/local_host.py). The host process itself is tested in tests/test_host_process.py.
@pytest.fixture
def host(local_host: LocalHost) -> LocalHost:
    return local_host


@pytest.fixture
def library(local_library: FunctionLibrary) -> FunctionLibrary:
    return local_library



T = TypeVar("T")
ROOT = Path(tuichat.__file__).resolve().parent.parent


@pytest.fixture
def compat(host: PipeHost) -> Iterator[Store]:
    """The shim installed and bound to a host on this test's database, as while that host
    runs a pipe; removed afterwards, so no other test sees an `open_webui` it did not set up."""
    with host.bound():
        yield host.store
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, OpenWebUIFinder)]
    for name in [name for name in sys.modules if name.split(".")[0] == "open_webui"]:
        del sys.modules[name]


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def run_pipe_module(source: str, name: str = "function_compat_probe") -> types.ModuleType:
    """Run `source` as tuichat's loader runs a pipe: a fresh module, its text exec'd."""
    module = types.ModuleType(name)
    exec(compile(src(source), f"<{name}>", "exec"), module.__dict__)
    return module


def in_thread(call: Callable[[], T]) -> T:
    """`call()` on a plain thread (no event loop there), returning its result. The
    thread runs in a copy of the caller's context, as tuichat's worker threads do."""
    results: list[T] = []
    errors: list[BaseException] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            results.append(context.run(call))
        except BaseException as exc:  # handed back to the test
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


def run_python(script: str, tmp_path: Path, extra_path: Path | None = None, **env: str) -> str:
    """Run `script` in a fresh interpreter (clean sys.modules); returns its stdout."""
    paths = [str(extra_path)] if extra_path else []
    environment = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", src(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# -- utils.misc: reading messages ----------------------------------------------------


def test_last_user_message_reads_string_list_and_output_content() -> None:
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply"},
        {
            "role": "user",
            "content": [
                {"type": "image_url"},
                {"type": "text", "text": "A"},
                {"type": "text", "text": "B"},
            ],
        },
    ]
    assert misc.get_last_user_message(messages) == "A"  # the first text part only
    assert misc.get_last_user_message_item(messages) is messages[2]
    assert misc.get_last_user_message(messages[:2]) == "first"
    assert misc.get_last_user_message([{"role": "assistant", "content": "x"}]) is None
    assert misc.get_last_user_message([]) is None
    output = [
        {"type": "reasoning", "content": [{"text": "hidden"}]},
        {
            "type": "message",
            "content": [
                {"type": "output_text", "text": "Hel"},
                {"type": "output_text", "text": "lo"},
            ],
        },
        {"type": "message", "content": [{"type": "output_text", "text": "  "}]},
        {"type": "message", "content": [{"type": "output_text", "text": "again"}]},
    ]
    assert (
        misc.get_last_user_message([{"role": "user", "content": "", "output": output}])
        == "Hello\nagain"
    )
    assert misc.get_last_user_message([{"role": "user", "content": ""}]) == ""
    assert (
        misc.get_last_user_message([{"role": "user", "content": [{"type": "image_url"}]}]) is None
    )


def test_last_assistant_message_and_item() -> None:
    messages = [
        {"role": "assistant", "content": "old"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": [{"type": "text", "text": "new"}]},
        {"role": "user", "content": "q2"},
    ]
    assert misc.get_last_assistant_message(messages) == "new"
    assert misc.get_last_assistant_message_item(messages) is messages[2]
    assert misc.get_last_assistant_message(messages[1:2]) is None
    assert misc.get_last_assistant_message_item([]) is None


def test_system_message_get_remove_and_pop_leave_the_input_alone() -> None:
    messages = [
        {"role": "user", "content": "u"},
        {"role": "system", "content": "s1"},
        {"role": "system", "content": "s2"},
    ]
    before = [dict(m) for m in messages]
    assert misc.get_system_message(messages) is messages[1]  # the first one
    assert misc.remove_system_message(messages) == [{"role": "user", "content": "u"}]
    system, rest = misc.pop_system_message(messages)
    assert system is messages[1] and rest == [{"role": "user", "content": "u"}]
    assert messages == before  # pop does not mutate
    assert misc.pop_system_message([{"role": "user", "content": "u"}]) == (
        None,
        [{"role": "user", "content": "u"}],
    )


def test_get_content_and_messages_content() -> None:
    assert misc.get_content_from_message({"role": "user", "content": "plain"}) == "plain"
    assert (
        misc.get_content_from_message({"role": "user", "content": [{"type": "text", "text": "t"}]})
        == "t"
    )
    assert misc.get_content_from_message({"role": "user"}) is None
    messages = [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": "yo"},
    ]
    assert misc.get_messages_content(messages) == "SYSTEM: rules\nUSER: hi\nASSISTANT: yo"


def test_messages_without_a_role_fail_as_in_open_webui() -> None:
    with pytest.raises(KeyError):
        misc.get_last_user_message([{"content": "no role"}])


def test_get_message_list_follows_parents_and_stops_on_cycles() -> None:
    tree = {
        "a": {"id": "a", "parentId": None},
        "b": {"id": "b", "parentId": "a"},
        "c": {"id": "c", "parentId": "b"},
        "x": {"id": "x", "parentId": "a"},
    }
    assert [m["id"] for m in misc.get_message_list(tree, "c")] == ["a", "b", "c"]
    assert [m["id"] for m in misc.get_message_list(tree, "x")] == ["a", "x"]
    assert misc.get_message_list(tree, "missing") == []
    assert misc.get_message_list({}, "a") == []
    assert misc.get_message_list(None, "a") == []
    loop = {"p": {"parentId": "q"}, "q": {"parentId": "p"}}
    assert len(misc.get_message_list(loop, "p")) == 2


# -- utils.misc: changing messages ---------------------------------------------------


def test_add_or_update_system_message_prepends_appends_or_inserts_in_place() -> None:
    messages = [{"role": "system", "content": "old"}, {"role": "user", "content": "u"}]
    assert misc.add_or_update_system_message("new", messages) is messages
    assert messages[0] == {"role": "system", "content": "new\nold"}
    misc.add_or_update_system_message("tail", messages, append=True)
    assert messages[0]["content"] == "new\nold\ntail"

    parts = [
        {
            "role": "system",
            "content": [
                {"type": "text", "text": "a"},
                {"type": "image_url"},
                {"type": "text", "text": "b"},
            ],
        }
    ]
    misc.add_or_update_system_message("S", parts)
    assert parts[0]["content"] == [
        {"type": "text", "text": "S\na"},
        {"type": "image_url"},
        {"type": "text", "text": "S\nb"},
    ]

    no_system = [{"role": "user", "content": "u"}, {"role": "system", "content": "late"}]
    misc.add_or_update_system_message("S", no_system)  # only index 0 counts
    assert no_system == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u"},
        {"role": "system", "content": "late"},
    ]
    empty: list[dict[str, Any]] = []
    assert misc.add_or_update_system_message("S", empty) == [{"role": "system", "content": "S"}]


def test_add_or_update_user_message_updates_only_a_trailing_user_message() -> None:
    messages = [{"role": "user", "content": "q"}]
    misc.add_or_update_user_message("more", messages)
    assert messages == [{"role": "user", "content": "q\nmore"}]
    misc.add_or_update_user_message("first", messages, append=False)
    assert messages == [{"role": "user", "content": "first\nq\nmore"}]
    messages.append({"role": "assistant", "content": "a"})
    misc.add_or_update_user_message("new", messages)
    assert messages[-1] == {"role": "user", "content": "new"} and len(messages) == 3


def test_prepend_to_first_user_message_content_changes_the_first_one_only() -> None:
    messages = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": [{"type": "text", "text": "one"}]},
        {"role": "user", "content": "two"},
    ]
    assert misc.prepend_to_first_user_message_content("ctx", messages) is messages
    assert messages[1]["content"] == [{"type": "text", "text": "ctx\none"}]
    assert messages[2]["content"] == "two"
    assert misc.prepend_to_first_user_message_content(
        "ctx", [{"role": "system", "content": "s"}]
    ) == [{"role": "system", "content": "s"}]


def test_append_or_update_assistant_message() -> None:
    messages = [{"role": "assistant", "content": "a"}]
    misc.append_or_update_assistant_message("b", messages)
    assert messages == [{"role": "assistant", "content": "a\nb"}]
    fresh = [{"role": "user", "content": "u"}]
    misc.append_or_update_assistant_message("c", fresh)
    assert fresh[-1] == {"role": "assistant", "content": "c"}


def test_set_last_user_message_content_replaces_text() -> None:
    messages = [{"role": "user", "content": "old"}, {"role": "assistant", "content": "a"}]
    misc.set_last_user_message_content("new", messages)
    assert messages[0]["content"] == "new"
    parts = [
        {
            "role": "user",
            "content": [
                {"type": "image_url"},
                {"type": "text", "text": "x"},
                {"type": "text", "text": "y"},
            ],
        }
    ]
    misc.set_last_user_message_content("new", parts)
    assert parts[0]["content"] == [
        {"type": "image_url"},
        {"type": "text", "text": "new"},
        {"type": "text", "text": "y"},
    ]


def test_update_and_replace_message_content() -> None:
    message = {"role": "user", "content": "body"}
    assert misc.update_message_content(message, "end") is message
    assert message["content"] == "body\nend"
    misc.update_message_content(message, "start", append=False)
    assert message["content"] == "start\nbody\nend"
    parts = {
        "role": "user",
        "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
    }
    misc.update_message_content(parts, "z")
    assert parts["content"] == [{"type": "text", "text": "a\nz"}, {"type": "text", "text": "b\nz"}]
    misc.replace_message_content(parts, "r")
    assert parts["content"] == [{"type": "text", "text": "r"}, {"type": "text", "text": "r"}]


def test_replace_system_message_content_sets_the_first_system_message() -> None:
    messages = [
        {"role": "user", "content": "u"},
        {"role": "system", "content": [{"type": "text", "text": "s1"}]},
        {"role": "system", "content": "s2"},
    ]
    misc.replace_system_message_content("S", messages)
    assert messages[1]["content"] == "S" and messages[2]["content"] == "s2"


def test_merge_system_messages_returns_a_new_list_with_one_system_first() -> None:
    messages = [
        {"role": "user", "content": "u"},
        {"role": "system", "content": "a"},
        {"role": "assistant", "content": "x"},
        {"role": "system", "content": ""},
        {"role": "system", "content": [{"type": "text", "text": "b"}]},
    ]
    merged = misc.merge_system_messages(messages)
    assert merged == [
        {"role": "system", "content": "a\nb"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "x"},
    ]
    assert len(messages) == 5  # untouched
    assert misc.merge_system_messages([{"role": "user", "content": "u"}]) == [
        {"role": "user", "content": "u"}
    ]


def test_strip_empty_content_blocks_keeps_something() -> None:
    messages = [
        {
            "role": "user",
            "content": [{"type": "text", "text": " "}, {"type": "image_url", "image_url": {}}],
        },
        {"role": "user", "content": [{"type": "text", "text": ""}]},
        {"role": "user", "content": "plain"},
    ]
    misc.strip_empty_content_blocks(messages)
    assert messages[0]["content"] == [{"type": "image_url", "image_url": {}}]
    assert messages[1]["content"] == [{"type": "text", "text": ""}]  # would be empty: kept


# -- utils.misc: templates (spec §7.1) -----------------------------------------------


def test_chunk_template_with_content_and_as_stop_chunk() -> None:
    chunk = misc.openai_chat_chunk_message_template("p1", "Hello")
    assert list(chunk) == ["id", "created", "model", "choices", "object"]
    assert chunk["id"].startswith("p1-") and len(chunk["id"]) == len("p1-") + 36
    assert isinstance(chunk["created"], int)
    assert chunk["model"] == "p1" and chunk["object"] == "chat.completion.chunk"
    assert chunk["choices"] == [
        {"index": 0, "logprobs": None, "finish_reason": None, "delta": {"content": "Hello"}}
    ]
    assert (
        misc.openai_chat_chunk_message_template("p1", "x")["id"] != chunk["id"]
    )  # new id per chunk

    stop = misc.openai_chat_chunk_message_template("p1", "")
    assert stop["choices"] == [{"index": 0, "logprobs": None, "finish_reason": "stop", "delta": {}}]
    assert "usage" not in stop


def test_chunk_template_reasoning_tool_calls_usage_and_id() -> None:
    calls = [{"index": 0, "id": "c1"}]
    chunk = misc.openai_chat_chunk_message_template(
        "m",
        reasoning_content="think",
        tool_calls=calls,
        usage={"total_tokens": 3},
        message_id="fixed",
    )
    assert chunk["id"] == "fixed"
    assert chunk["choices"][0]["delta"] == {"reasoning_content": "think", "tool_calls": calls}
    assert chunk["choices"][0]["finish_reason"] is None
    assert chunk["usage"] == {"total_tokens": 3}


def test_completion_template() -> None:
    done = misc.openai_chat_completion_message_template("p1", "Hello")
    assert list(done) == ["id", "created", "model", "choices", "object"]
    assert done["object"] == "chat.completion"
    assert done["choices"] == [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "Hello"},
        }
    ]
    assert (
        misc.openai_chat_completion_message_template("p1", "")["choices"][0]["message"]["content"]
        == ""
    )
    empty = misc.openai_chat_completion_message_template("p1")
    assert empty["choices"] == [{"index": 0, "logprobs": None, "finish_reason": "stop"}]
    full = misc.openai_chat_completion_message_template(
        "p1", "A", reasoning_content="R", usage={"u": 1}
    )
    assert full["choices"][0]["message"] == {
        "role": "assistant",
        "content": "A",
        "reasoning_content": "R",
    }
    assert full["usage"] == {"u": 1}


# -- utils.misc: other helpers -------------------------------------------------------


def test_pure_helpers() -> None:
    assert misc.get_gravatar_url(" Me@Example.com ") == (
        "https://www.gravatar.com/avatar/"
        + misc.calculate_sha256_string("me@example.com")
        + "?d=mp"
    )
    assert (
        misc.calculate_sha256_string("abc")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert misc.calculate_sha256_bytes(b"abc") == misc.calculate_sha256_string("abc")
    assert misc.validate_email_format("a@b.co") and misc.validate_email_format("admin@localhost")
    assert not misc.validate_email_format("nobody")
    assert misc.sanitize_filename("My  Report (v2).PDF") == "my-report-v2pdf"
    assert (
        misc.parse_duration("1h30m") == misc.parse_duration("90m")
        and str(misc.parse_duration("1h30m")) == "1:30:00"
    )
    assert misc.parse_duration("250ms").total_seconds() == 0.25  # type: ignore[union-attr]
    assert misc.parse_duration("-1") is None and misc.parse_duration("0") is None
    with pytest.raises(ValueError, match="Invalid duration string"):
        misc.parse_duration("soon")
    target = {"a": {"b": 1, "c": 2}, "k": 1}
    assert misc.deep_update(target, {"a": {"b": 9}, "n": {"x": 1}}) is target
    assert target == {"a": {"b": 9, "c": 2}, "k": 1, "n": {"x": 1}}
    assert misc.extract_folders_after_data_docs("/srv/data/docs/a/b/f.txt") == ["a", "a/b"]
    assert misc.extract_folders_after_data_docs("/srv/other/f.txt") == []
    assert misc.convert_logit_bias_input_to_json("5:200, 6:-7") == '{"5": 100, "6": -7}'
    assert misc.convert_logit_bias_input_to_json("") is None
    assert misc.is_string_allowed("api.example.com", ["example.com", "!bad.example.com"])
    assert not misc.is_string_allowed("bad.example.com", ["example.com", "!bad.example.com"])
    assert not misc.is_string_allowed("other.org", ["example.com"])
    assert misc.sanitize_text_for_db("a\x00b\ud800c") == "abc"
    assert misc.extract_urls("see https://a.b/c and http://x.y") == ["https://a.b/c", "http://x.y"]
    assert hash(misc.freeze({"a": [1, {"b": 2}]})) == hash(misc.freeze({"a": [1, {"b": 2}]}))


def test_calculate_sha256_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc" * 1000)
    assert misc.calculate_sha256(path, 7) == misc.calculate_sha256_bytes(b"abc" * 1000)


# -- the import hook -----------------------------------------------------------------


PIPE_SOURCE = """
    from open_webui.utils.misc import (
        add_or_update_system_message,
        get_last_user_message,
        openai_chat_chunk_message_template,
        pop_system_message,
    )
    from open_webui.models.users import Users, UserModel
    from open_webui.models.files import Files, FileForm
    from open_webui.models.chats import Chats
    from open_webui.models.functions import Functions
    from open_webui.models.models import Models
    from open_webui.constants import TASKS, ERROR_MESSAGES
    from open_webui.env import SRC_LOG_LEVELS, AIOHTTP_CLIENT_TIMEOUT, WEBUI_NAME
    from open_webui.config import UPLOAD_DIR, PersistentConfig
    from open_webui.storage.provider import Storage
    from open_webui.utils import misc as misc_module
    import open_webui.models.users
    import logging

    log = logging.getLogger(__name__)
    log.setLevel(SRC_LOG_LEVELS["MAIN"])

    class Pipe:
        def pipe(self, body, __user__):
            user = Users.get_user_by_id(__user__["id"])
            system, rest = pop_system_message(body["messages"])
            return f"{user.name}: {get_last_user_message(rest)} ({TASKS.TITLE_GENERATION})"

        async def apipe(self, body, __user__):
            user = await Users.get_user_by_id(__user__["id"])
            model = await Models.get_model_by_id(body["model"])
            return user.email, model
"""


async def test_a_pipe_importing_open_webui_loads_and_runs(compat: Store) -> None:
    module = run_pipe_module(PIPE_SOURCE)
    user = await compat.users.local()
    body = {
        "model": "p",
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}],
    }
    assert module.Pipe().pipe(body, user) == f"{user['name']}: hi (title_generation)"
    assert await module.Pipe().apipe(body, user) == (user["email"], None)


def test_open_webui_names_are_the_tuichat_modules(compat: Store) -> None:
    import open_webui.models.users
    import open_webui.utils.misc

    from tuichat.compat.open_webui.models import users as canonical_users

    assert open_webui.utils.misc is misc
    assert open_webui.models.users is canonical_users
    assert sys.modules["open_webui.utils.misc"] is misc
    assert (
        misc.__spec__ is not None and misc.__spec__.name == "tuichat.compat.open_webui.utils.misc"
    )
    for alias in provided_modules():
        assert sys.modules[alias] is sys.modules["tuichat.compat." + alias]


def test_provided_modules_cover_the_shim() -> None:
    assert {
        "open_webui", "open_webui.constants", "open_webui.env", "open_webui.config",
        "open_webui.utils", "open_webui.utils.misc", "open_webui.models", "open_webui.models.users",
        "open_webui.models.files", "open_webui.models.chats", "open_webui.models.functions",
        "open_webui.models.models", "open_webui.storage", "open_webui.storage.provider",
    } <= set(provided_modules())  # fmt: skip


def test_a_missing_submodule_is_named_with_what_is_provided(compat: Store) -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        run_pipe_module("from open_webui.retrieval.utils import get_sources_from_files")
    assert caught.value.name == "open_webui.retrieval"
    message = str(caught.value)
    assert (
        "'open_webui.retrieval'" in message
        and "tuichat" in message
        and "does not provide" in message
    )
    assert "open_webui.utils.misc" in message and "open_webui.models.users" in message

    with pytest.raises(ModuleNotFoundError, match=r"'open_webui\.utils\.nope'"):
        run_pipe_module("import open_webui.utils.nope")


def test_a_missing_name_is_an_import_error_naming_module_and_name(compat: Store) -> None:
    with pytest.raises(ImportError) as caught:
        run_pipe_module("from open_webui.utils.misc import nope")
    assert not isinstance(caught.value, ModuleNotFoundError)
    message = str(caught.value)
    assert (
        "'nope'" in message
        and "'open_webui.utils.misc'" in message
        and "does not provide" in message
    )
    assert "get_last_user_message" in message  # what it does provide
    assert caught.value.name == "open_webui.utils.misc"

    with pytest.raises(ImportError, match=r"'nope' from 'open_webui\.models'.*users"):
        run_pipe_module("from open_webui.models import nope")
    with pytest.raises(ImportError, match="'nope' from 'open_webui'"):
        run_pipe_module("from open_webui import nope")


def test_the_usual_fallback_import_pattern_works(compat: Store) -> None:
    module = run_pipe_module(
        """
        try:
            from open_webui.utils.misc import helper_of_a_later_release
        except ImportError:
            helper_of_a_later_release = None
        """
    )
    assert module.helper_of_a_later_release is None


def test_hasattr_getattr_and_dunders_still_see_attribute_errors(compat: Store) -> None:
    import open_webui.env

    assert not hasattr(misc, "nope")
    assert getattr(misc, "nope", 42) == 42
    with pytest.raises(AttributeError, match="does not provide"):
        misc.nope  # noqa: B018
    with pytest.raises(AttributeError) as dunder:
        misc.__wrapped__  # noqa: B018
    assert not isinstance(dunder.value, ImportError)
    assert not hasattr(open_webui.env, "__version__")
    from open_webui.models import users  # a submodule, found by the package import

    assert users.Users is not None


def test_install_twice_adds_one_finder(compat: Store) -> None:
    install()
    install()
    assert sum(isinstance(finder, OpenWebUIFinder) for finder in sys.meta_path) == 1


def test_first_import_in_a_fresh_process_binds_one_module_per_name(tmp_path: Path) -> None:
    out = run_python(
        """
        import sys
        from tuichat.compat import install
        install()
        from open_webui.utils.misc import get_last_user_message
        import open_webui.utils.misc as alias
        import tuichat.compat.open_webui.utils.misc as canonical
        assert alias is canonical, (alias, canonical)
        assert get_last_user_message([{"role": "user", "content": "x"}]) == "x"
        assert sys.meta_path[-1].__class__.__name__ == "OpenWebUIFinder"
        print("ok")
        """,
        tmp_path,
    )
    assert out.strip() == "ok"


def test_an_installed_open_webui_wins_and_is_never_mixed_with_the_shim(tmp_path: Path) -> None:
    site = tmp_path / "site"
    real = site / "open_webui"
    (real / "utils").mkdir(parents=True)
    (real / "__init__.py").write_text("REAL = True\n")
    (real / "utils" / "__init__.py").write_text("")
    (real / "utils" / "misc.py").write_text(
        "def get_last_user_message(messages):\n    return 'real'\n"
    )
    out = run_python(
        """
        import sys
        from tuichat.compat import install
        install()
        import open_webui
        from open_webui.utils.misc import get_last_user_message
        assert open_webui.REAL and get_last_user_message([]) == "real"
        try:
            import open_webui.models.users  # the real one lacks it: no shim module either
        except ModuleNotFoundError as exc:
            assert "tuichat" not in str(exc), exc
        else:
            raise AssertionError("the shim filled in a module of the real package")
        assert "tuichat.compat.open_webui" not in sys.modules
        print("ok")
        """,
        tmp_path,
        extra_path=site,
    )
    assert out.strip() == "ok"


# -- models.users --------------------------------------------------------------------


async def test_users_sync_and_awaited(compat: Store) -> None:
    from open_webui.models.users import UserModel, Users

    local = await compat.users.local()
    user = Users.get_user_by_id(local["id"])
    assert isinstance(user, UserModel) and user.name == local["name"]
    assert await Users.get_user_by_id(local["id"]) == user
    assert user.model_dump() == {**local, "settings": None}
    assert list(user.model_dump()) == list(USER_FIELDS)
    assert user.role == "admin" and user.profile_image_url == "/user.png"

    assert (await Users.get_user_by_email("ADMIN@localhost")).id == local["id"]  # type: ignore[union-attr]
    assert Users.get_first_user().id == local["id"]  # type: ignore[union-attr]
    assert (await Users.get_super_admin_user()).id == local["id"]  # type: ignore[union-attr]
    assert Users.get_num_users() == 1 and await Users.get_num_users() == 1
    assert Users.has_users() and repr(Users.has_users()) == "True"
    assert Users.get_user_role_by_id(local["id"]) == "admin"
    assert await Users.get_user_role_by_id(local["id"]) == "admin"
    listing = await Users.get_users()
    assert listing["total"] == 1 and [u.id for u in listing["users"]] == [local["id"]]
    assert Users.get_users(filter={"query": "nobody"}) == {"users": [], "total": 0}
    assert Users.get_users(skip=1)["users"] == []
    assert await Users.get_valid_user_ids([local["id"], "ghost"]) == [local["id"]]


async def test_an_unknown_user_is_none_like(compat: Store) -> None:
    from open_webui.models.users import Users

    missing = Users.get_user_by_id("ghost")
    assert missing == None  # noqa: E711  (old pipes compare so)
    assert not missing and missing is NOT_FOUND and repr(missing) == "None"
    assert await Users.get_user_by_id("ghost") is None
    assert await Users.get_user_by_email("ghost@x.y") is None
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'name'"):
        missing.name  # noqa: B018
    assert await Users.get_user_role_by_id("ghost") is None


async def test_user_settings_update_is_stored(compat: Store) -> None:
    from open_webui.models.users import UserModel, Users

    uid = (await compat.users.local())["id"]
    first = await Users.update_user_settings_by_id(uid, {"ui": {"theme": "dark"}})
    assert isinstance(first, UserModel) and first.settings is not None
    assert Users.update_user_settings_by_id(uid, {"extra": 1}).settings.model_dump() == {  # type: ignore[union-attr]
        "ui": {"theme": "dark"},
        "extra": 1,
    }
    assert (await compat.users.local())["settings"] == {"ui": {"theme": "dark"}, "extra": 1}
    assert await Users.update_user_settings_by_id("ghost", {"x": 1}) is None
    renamed = Users.update_user_by_id(uid, {"name": "Ada", "info": {"k": "v"}})
    assert renamed.name == "Ada" and (await compat.users.local())["info"] == {"k": "v"}  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="id"):
        Users.update_user_by_id(uid, {"id": "new"})


async def test_users_from_worker_threads(compat: Store) -> None:
    from open_webui.models.users import Users

    uid = (await compat.users.local())["id"]
    # A sync pipe run in a thread pool, old style:
    assert (
        await asyncio.to_thread(lambda: Users.get_user_by_id(uid).name)
        == (await compat.users.local())["name"]
    )  # type: ignore[union-attr]

    # A thread running its own event loop, 0.12 style:
    async def lookup() -> str:
        user = await Users.get_user_by_id(uid)
        assert user is not None
        return user.email

    assert in_thread(lambda: asyncio.run(lookup())) == "admin@localhost"


# -- models.files --------------------------------------------------------------------


async def test_files_round_trip_sync_and_awaited(compat: Store) -> None:
    from open_webui.models.files import FileForm, FileModel, Files

    uid = (await compat.users.local())["id"]
    form = FileForm(
        id="f1", filename="a.txt", path="/up/f1_a.txt", meta={"name": "a.txt", "size": 3}
    )
    created = Files.insert_new_file(uid, form)
    assert isinstance(created, FileModel) and created.user_id == uid and created.data == {}
    assert await Files.insert_new_file(uid, form) is None  # the id is taken

    found = await Files.get_file_by_id("f1")
    assert found == created
    assert Files.get_file_by_id_and_user_id("f1", "someone else") == None  # noqa: E711
    assert [f.id for f in await Files.get_files_by_user_id(uid)] == ["f1"]
    assert [f.id for f in Files.get_files_by_ids(["f1", "nope"])] == ["f1"]

    updated = await Files.update_file_data_by_id("f1", {"content": "abc"})
    assert updated.data == {"content": "abc"}  # type: ignore[union-attr]
    Files.update_file_metadata_by_id("f1", {"content_type": "text/plain"})
    assert Files.get_file_by_id("f1").meta == {
        "name": "a.txt",
        "size": 3,
        "content_type": "text/plain",
    }  # type: ignore[union-attr]
    assert Files.update_file_hash_by_id("f1", "h").hash == "h"  # type: ignore[union-attr]
    assert await Files.update_file_data_by_id("ghost", {}) is None

    assert await Files.delete_file_by_id("f1")
    assert Files.get_file_by_id("f1") == None  # noqa: E711
    assert await Files.get_files() == []


async def test_files_from_a_worker_thread(compat: Store) -> None:
    from open_webui.models.files import FileForm, Files

    def work() -> str | None:
        Files.insert_new_file("u", FileForm(id="t1", filename="t", path="/t"))
        return Files.get_file_by_id("t1").filename  # type: ignore[union-attr]

    assert await asyncio.to_thread(work) == "t"


# -- models.chats --------------------------------------------------------------------


async def _chat_with_messages(store: Store) -> tuple[str, list[str]]:
    chat = await store.chats.create("Hello", model_id="p.sub", system_prompt="Be brief")
    user = await store.chats.add_message(chat.id, "user", "hi")
    reply = await store.chats.add_message(
        chat.id, "assistant", "hey", model_id="p.sub", parent_id=user.id
    )
    follow = await store.chats.add_message(chat.id, "user", "more")  # no parent recorded
    return chat.id, [user.id, reply.id, follow.id]


async def test_chats_in_open_webui_shape(compat: Store) -> None:
    from open_webui.models.chats import ChatModel, Chats

    chat_id, (u1, a1, u2) = await _chat_with_messages(compat)
    uid = (await compat.users.local())["id"]
    chat = Chats.get_chat_by_id(chat_id)
    assert isinstance(chat, ChatModel)
    assert (chat.id, chat.title, chat.user_id) == (chat_id, "Hello", uid)
    assert await Chats.get_chat_by_id(chat_id) == chat
    body = chat.chat
    assert body["title"] == "Hello" and body["models"] == ["p.sub"]
    assert body["params"] == {"system": "Be brief"}
    history = body["history"]
    assert history["currentId"] == u2 and list(history["messages"]) == [u1, a1, u2]
    assert history["messages"][u1]["childrenIds"] == [a1]
    assert history["messages"][u2]["parentId"] == a1
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "hi"),
        ("assistant", "hey"),
        ("user", "more"),
    ]
    reply = history["messages"][a1]
    assert reply["model"] == "p.sub" and reply["done"] is True
    assert {"id", "parentId", "childrenIds", "role", "content", "timestamp"} <= set(reply)

    assert Chats.get_chat_by_id_and_user_id(chat_id, uid) == chat
    assert await Chats.get_chat_by_id_and_user_id(chat_id, "other") is None
    assert await Chats.get_chat_by_id("ghost") is None
    assert (await Chats.get_message_by_id_and_message_id(chat_id, a1))["content"] == "hey"  # type: ignore[index]
    assert list(Chats.get_messages_map_by_chat_id(chat_id)) == [u1, a1, u2]  # type: ignore[arg-type]


async def test_chats_by_user_as_list_and_as_items(compat: Store) -> None:
    from open_webui.models.chats import Chats

    older = await compat.chats.create("older")
    newer = await compat.chats.create("newer")
    uid = (await compat.users.local())["id"]
    chats = Chats.get_chats_by_user_id(uid)
    assert [c.id for c in chats] == [newer.id, older.id]  # old style: a list
    awaited = await Chats.get_chats_by_user_id(uid, skip=1, limit=5)
    assert [c.id for c in awaited.items] == [older.id] and awaited.total == 2  # 0.12 style
    assert Chats.get_chats_by_user_id("other") == []
    every = Chats.get_chats()  # an admin's view (a published dashboard pipe reads it): all chats
    assert [c.id for c in every] == [newer.id, older.id] and every[0].archived is False
    assert [c.id for c in await Chats.get_chats(skip=1)] == [older.id]


async def test_chat_title_update_is_stored(compat: Store) -> None:
    from open_webui.models.chats import Chats

    chat = await compat.chats.create("Untitled")
    renamed = await Chats.update_chat_title_by_id(chat.id, "Greeting")
    assert renamed.title == "Greeting" and renamed.chat["title"] == "Greeting"  # type: ignore[union-attr]
    stored = await compat.chats.get(chat.id)
    assert (
        stored is not None and stored.title == "Greeting" and stored.updated_at >= chat.updated_at
    )
    assert Chats.get_chat_title_by_id(chat.id) == "Greeting"
    assert (
        await asyncio.to_thread(lambda: Chats.update_chat_title_by_id(chat.id, "T2").title) == "T2"
    )  # type: ignore[union-attr]
    assert Chats.update_chat_title_by_id("ghost", "x") == None  # noqa: E711


# -- models.functions ----------------------------------------------------------------


PIPE = "class Pipe:\n    def pipe(self, body):\n        return 'x'\n"


async def test_functions_read_tuichats_function_table(compat: Store) -> None:
    from open_webui.models.functions import FunctionModel, Functions

    await compat.functions.insert(
        "p",
        name="P",
        type="pipe",
        content=PIPE,
        meta={"description": "d", "manifest": {"version": "1"}},
    )
    await compat.functions.insert(
        "f", name="F", type="filter", content="x", is_active=False, is_global=True
    )
    uid = (await compat.users.local())["id"]

    pipe = Functions.get_function_by_id("p")
    assert isinstance(pipe, FunctionModel)
    assert (pipe.name, pipe.type, pipe.content, pipe.is_active, pipe.user_id) == (
        "P",
        "pipe",
        PIPE,
        True,
        uid,
    )
    assert pipe.meta.description == "d" and pipe.meta.manifest == {"version": "1"}
    assert await Functions.get_function_by_id("p") == pipe
    assert await Functions.get_function_by_id("ghost") is None
    assert [f.id for f in await Functions.get_functions()] == ["p", "f"]
    assert [f.id for f in Functions.get_functions(active_only=True)] == ["p"]
    assert [f.id for f in Functions.get_functions_by_type("filter")] == ["f"]
    assert await Functions.get_functions_by_type("filter", active_only=True) == []
    assert Functions.get_global_filter_functions() == []


async def test_function_valves_round_trip(compat: Store) -> None:
    from open_webui.models.functions import Functions

    await compat.functions.insert("p", name="P", type="pipe", content=PIPE, valves={"N": 1})
    uid = (await compat.users.local())["id"]
    assert Functions.get_function_valves_by_id("p") == {"N": 1}
    assert await Functions.get_function_valves_by_id("ghost") is None
    assert (await Functions.update_function_valves_by_id("p", {"N": 2})).id == "p"  # type: ignore[union-attr]
    assert await compat.functions.get_valves("p") == {"N": 2}

    assert await Functions.get_user_valves_by_id_and_user_id("p", uid) == {}
    assert Functions.update_user_valves_by_id_and_user_id("p", uid, {"key": "v"}) == {"key": "v"}
    assert await compat.functions.get_user_valves("p", uid) == {"key": "v"}  # what the host injects
    assert Functions.get_user_valves_by_id_and_user_id("p", uid) == {"key": "v"}
    assert await Functions.get_user_valves_by_id_and_user_id("p", "other") is None
    assert await Functions.update_user_valves_by_id_and_user_id("ghost", uid, {}) is None
    assert await asyncio.to_thread(lambda: dict(Functions.get_function_valves_by_id("p"))) == {
        "N": 2
    }  # type: ignore[call-overload]


# -- models.models -------------------------------------------------------------------


async def test_models_has_no_workspace_models(compat: Store) -> None:
    from open_webui.models.models import ModelForm, ModelMeta, ModelModel, ModelParams, Models

    assert Models.get_model_by_id("p") == None  # noqa: E711
    assert await Models.get_model_by_id("p") is None
    assert Models.get_all_models() == [] and await Models.get_all_models() == []
    model = ModelModel(
        id="m",
        user_id="u",
        name="M",
        params=ModelParams(),
        meta=ModelMeta(),
        updated_at=0,
        created_at=0,
    )
    assert model.meta.profile_image_url == "/static/favicon.png" and model.base_model_id is None
    assert ModelForm(
        id="m", name="M", meta=ModelMeta(), params=ModelParams(temperature=0.1)
    ).params.model_dump() == {"temperature": 0.1}


# -- constants, env, config ----------------------------------------------------------


def test_tasks_and_error_messages(compat: Store) -> None:
    from open_webui.constants import ERROR_MESSAGES, TASKS

    assert [task.value for task in TASKS] == [
        "title_generation", "follow_up_generation", "tags_generation", "emoji_generation",
        "query_generation", "image_prompt_generation", "autocomplete_generation",
        "function_calling", "moa_response_generation",
    ]  # fmt: skip
    assert (
        TASKS.TITLE_GENERATION == "title_generation"
        and f"{TASKS.TAGS_GENERATION}" == "tags_generation"
    )
    assert str(TASKS.EMOJI_GENERATION) == "emoji_generation"
    assert TASKS.DEFAULT() == "generation" and TASKS.DEFAULT("x") == "x"
    assert ERROR_MESSAGES.DEFAULT() == "Something went wrong :/"
    assert ERROR_MESSAGES.DEFAULT("boom") == "[ERROR: boom]"
    assert str(ERROR_MESSAGES.NOT_FOUND) == "We could not find what you're looking for :/"
    assert ERROR_MESSAGES.MODEL_NOT_FOUND("m") == "Model 'm' was not found"


def test_env_defaults_and_data_dir(compat: Store, tmp_path: Path) -> None:
    import open_webui.env as env
    from open_webui.env import DATA_DIR

    assert tmp_path == DATA_DIR and tmp_path == env.DATA_DIR
    if "AIOHTTP_CLIENT_TIMEOUT" not in os.environ:
        assert env.AIOHTTP_CLIENT_TIMEOUT is None
    assert env.SRC_LOG_LEVELS["MAIN"] == env.GLOBAL_LOG_LEVEL
    assert env.SRC_LOG_LEVELS["SOMETHING_NEW"] == env.GLOBAL_LOG_LEVEL
    assert env.VERSION == "0.12.4"


def test_env_overrides_in_a_fresh_process(tmp_path: Path) -> None:
    out = run_python(
        """
        from tuichat.compat import install
        install()
        import open_webui.env as env
        print(env.AIOHTTP_CLIENT_TIMEOUT, env.AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST,
              env.AIOHTTP_CLIENT_TIMEOUT_TOOL_SERVER_DATA, env.ENABLE_FORWARD_USER_INFO_HEADERS,
              env.OFFLINE_MODE, env.WEBUI_NAME, env.GLOBAL_LOG_LEVEL, env.SRC_LOG_LEVELS["MAIN"],
              env.SRC_LOG_LEVELS["RAG"], sep="|")
        """,
        tmp_path,
        AIOHTTP_CLIENT_TIMEOUT="5",
        AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST="",
        AIOHTTP_CLIENT_TIMEOUT_TOOL_SERVER_DATA="junk",
        ENABLE_FORWARD_USER_INFO_HEADERS="TRUE",
        OFFLINE_MODE="true",
        WEBUI_NAME="Lab",
        GLOBAL_LOG_LEVEL="debug",
        MAIN_LOG_LEVEL="error",
    )
    assert out.strip() == "5|None|10|True|True|Lab (Open WebUI)|DEBUG|ERROR|DEBUG"


def test_config_folders_and_persistent_config(compat: Store, tmp_path: Path) -> None:
    from open_webui.config import CACHE_DIR, DATA_DIR, UPLOAD_DIR, PersistentConfig

    assert tmp_path == DATA_DIR
    assert tmp_path / "uploads" == UPLOAD_DIR and UPLOAD_DIR.is_dir()
    assert tmp_path / "cache" == CACHE_DIR and CACHE_DIR.is_dir()
    setting = PersistentConfig("ENABLE_X", "x.enable", True)
    assert setting.value is True and setting.env_name == "ENABLE_X" and str(setting) == "True"
    setting.value = False
    setting.save()
    assert setting.value is False


# -- storage.provider ----------------------------------------------------------------


def test_storage_round_trip(compat: Store, tmp_path: Path) -> None:
    from open_webui.storage.provider import Storage

    contents, path = Storage.upload_file(
        io.BytesIO(b"abc"), "f1_notes.txt", {"OpenWebUI-File-Id": "f1"}
    )
    assert contents == b"abc" and Path(path) == tmp_path / "uploads" / "f1_notes.txt"
    assert Path(Storage.get_file(path)).read_bytes() == b"abc"
    Storage.delete_file(path)
    assert not Path(path).exists()
    Storage.delete_file(path)  # already gone: logged, not raised

    Storage.upload_file(io.BytesIO(b"1"), "a", {})
    (tmp_path / "uploads" / "sub").mkdir()
    Storage.delete_all_files()
    assert list((tmp_path / "uploads").iterdir()) == []

    with pytest.raises(ValueError, match="content provided is empty"):
        Storage.upload_file(io.BytesIO(b""), "empty", {})
    with pytest.raises(ValueError, match="inside"):
        Storage.upload_file(io.BytesIO(b"x"), "../escape", {})
