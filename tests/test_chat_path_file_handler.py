"""A `file_handler` filter, as Open WebUI 0.12.4 treats it. Followed: `process_filter_functions`
in open_webui/utils/filter.py (after the inlets, when any filter whose inlet ran has a truthy
`file_handler`, `files` is deleted from the body and from `body["metadata"]`) and
`process_chat_payload` in open_webui/utils/middleware.py (then `files =
form_data.pop('files', None)`, deduplicated, and `metadata.update({'files': files})`; the
pipe's `__files__` is `metadata.get('files') or []`, open_webui/functions.py). So after such
a filter the pipe gets no files at all: `__files__` is [] and `__metadata__["files"]` None.

Files are attached by a later issue (`tuichat run --file`); here the request carries
`files` as the web page posts them, built through the runtime API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuichat.runtime.chatpath.client import build_chat_body, chat_setup
from tuichat.runtime.host import PipeHost
from tuichat.runtime.invocation.trace import SseStep
from tuichat.runtime.library import FunctionLibrary
from tuichat.store import Store

ECHO_FILES = '''
import json
class Pipe:
    def pipe(self, body, __files__, __metadata__):
        return json.dumps({"body_files": "files" in body, "__files__": __files__,
                           "metadata_files": __metadata__.get("files"), "inlet_saw": body.get("inlet_saw")})
'''

HANDLER = '''
class Filter:
    def __init__(self):
        self.file_handler = {flag}

    def inlet(self, body):
        body["inlet_saw"] = [len(body.get("files") or []), len(body["metadata"].get("files") or [])]
        return body
'''

STREAM_ONLY = '''
class Filter:
    file_handler = True  # no inlet: Open WebUI never reads it

    def stream(self, event):
        return event
'''

NOTES = {"type": "file", "id": "f1", "name": "notes.txt", "url": "f1", "status": "uploaded"}


async def pipe_saw(host: PipeHost, store: Store, files: list[dict[str, Any]]) -> dict[str, Any]:
    user = await store.users.local()
    body = await build_chat_body(
        store, "echo", [{"role": "user", "content": "read it"}], text="read it", stream=False, chat_id=None,
        message_id=None, user_message_id=None, session_id="s1", user=user, filter_ids=[], params={}, extra_metadata={},
    )  # fmt: skip
    body["files"] = files  # as the page posts them: in the body, and the same list in the metadata
    body["metadata"]["files"] = files
    invocation = await host.invoke("echo", body, metadata={}, user=user)
    invocation.chat = await chat_setup(store, "echo", text="read it", outlet_messages=[])
    invocation.with_logs = True
    replies = [step async for step in invocation if not isinstance(step, SseStep)]
    [text] = [s.data["choices"][0]["message"]["content"] for s in replies if getattr(s, "data", None)]
    return dict(json.loads(text))


@pytest.mark.parametrize(
    ("source", "handled"),
    [(HANDLER.format(flag="True"), True), (HANDLER.format(flag="'yes'"), True), (HANDLER.format(flag="False"), False),
     (STREAM_ONLY, False)],
    ids=["file_handler", "truthy", "false", "no-inlet"],
)  # fmt: skip
async def test_a_file_handler_filter_takes_the_files_away_from_the_pipe(
    source: str, handled: bool, host: PipeHost, library: FunctionLibrary, store: Store
) -> None:
    await library.add(ECHO_FILES, function_id="echo")
    await library.add(source, function_id="handler")
    await store.functions.update("handler", is_global=True)
    saw = await pipe_saw(host, store, [NOTES, dict(NOTES)])  # the same file twice: deduplicated
    if source != STREAM_ONLY:
        assert saw["inlet_saw"] == [2, 2]  # the inlet itself still gets the files
    assert saw["body_files"] is False  # never in the pipe's body
    if handled:
        assert (saw["__files__"], saw["metadata_files"]) == ([], None)
    else:
        assert saw["__files__"] == saw["metadata_files"] == [NOTES]
