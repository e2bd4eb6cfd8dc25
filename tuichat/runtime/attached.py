"""Attachments on their way to a pipe: stored as Open WebUI's file rows, kept on the user message
as its `files`, and turned into what Open WebUI 0.12.4's web page posts.

The web page sends, for every user message with attachments, images as `image_url` data-URL
parts of its content and files as items in the message's `files` (the server turns those into
the `<attached_files>` block); and in the request's `files`, every file item of the chat's
branch so far (its `chatFiles`) then the new message's. Each item is the upload's answer, as
`file_item` builds it. Images are stored once, as file rows with their bytes on disk; the message
keeps a small reference to each (`image_entry`), and the data URL is rebuilt when sent.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuichat.runtime.attachments import Attachment, format_size
from tuichat.runtime.chatpath.rag import add_file_context
from tuichat.store import Store
from tuichat.store.files import FileRow, remove_copies


@dataclass
class Outgoing:
    """A turn's attachments as the request carries them."""

    messages: list[dict[str, Any]]  # {role, content} with images as parts and the <attached_files> blocks
    items: list[dict[str, Any]]  # the request's `files`: the branch's file items, then the new ones
    texts: dict[str, dict[str, str]] = field(default_factory=dict)  # file id -> {name, text}, for the sources
    current: list[dict[str, Any]] = field(default_factory=list)  # the new message's files as the page posts them


# -- rows --------------------------------------------------------------------------------------
async def store_attachments(store: Store, attachments: Sequence[Attachment], *, user_id: str, chat_id: str) -> list[FileRow]:
    """Copy each attachment into the data folder and add its row; all or none."""
    rows: list[FileRow] = []
    try:
        for attachment in attachments:
            rows.append(
                await store.files.add(
                    file_id=str(uuid.uuid4()), user_id=user_id, chat_id=chat_id, filename=attachment.name,
                    content_type=attachment.content_type, data=attachment.data, sha256=attachment.sha256,
                    text=attachment.text,
                )  # fmt: skip
            )
    except BaseException:
        remove_copies([row.path for row in rows if row.path])
        raise
    return rows


def unsaved_rows(attachments: Sequence[Attachment], *, user_id: str) -> list[FileRow]:
    """Rows for a turn that stores nothing (`--no-save`): the path is the attachment's own."""
    now = int(time.time())
    rows = []
    for a in attachments:
        meta = {"name": a.name, "content_type": a.content_type, "size": a.size, "file_hash": a.sha256, "data": {}}
        data: dict[str, Any] = {} if a.text is None else {"status": "completed", "content": a.text, "error": None}
        rows.append(FileRow(str(uuid.uuid4()), user_id, None, a.sha256, a.name, str(a.path), data, meta, now, now))
    return rows


# -- what the message keeps ----------------------------------------------------------------------
def file_item(row: FileRow) -> dict[str, Any]:
    """The item the 0.12.4 web page builds for an uploaded file: the upload's answer (`file`,
    whose `data` is the last processing status and `hash` still null), and its own fields."""
    meta = row.meta
    answer = {
        "id": row.id, "user_id": row.user_id, "hash": None, "filename": row.filename,
        "data": {"status": "completed"}, "meta": dict(meta), "created_at": row.created_at,
        "updated_at": row.updated_at, "status": True, "path": row.path,
    }  # fmt: skip
    return {
        "type": "file", "file": answer, "id": row.id, "url": row.id, "name": meta.get("name", row.filename),
        "status": "uploaded", "size": meta.get("size"), "error": "", "itemId": str(uuid.uuid4()),
        "content_type": meta.get("content_type"),
    }  # fmt: skip


def image_entry(row: FileRow) -> dict[str, Any]:
    """An image as the message keeps it: a reference to its row, not its data URL."""
    meta = row.meta
    return {"type": "image", "id": row.id, "name": meta.get("name", row.filename), "size": meta.get("size"),
            "content_type": meta.get("content_type")}  # fmt: skip


def message_files(rows: Sequence[FileRow]) -> list[dict[str, Any]]:
    """`MessageRow.files` for the rows of a message's attachments, in attach order."""
    return [image_entry(row) if str(row.meta.get("content_type")).startswith("image/") else file_item(row) for row in rows]


def describe_files(files: Sequence[Mapping[str, Any]]) -> list[str]:
    """`notes.txt (text/plain, 38 B)` per entry, for listings and exports."""
    return [f"{f.get('name')} ({f.get('content_type') or f.get('type')}, {format_size(int(f.get('size') or 0))})" for f in files]


# -- what the request carries --------------------------------------------------------------------
async def outgoing(
    store: Store, messages: Sequence[Mapping[str, Any]], known: Sequence[FileRow] = (), *, data: Mapping[str, bytes] | None = None
) -> Outgoing:
    """`messages` ({role, content, files?}, the last one the new message) as the page posts
    them. `known`: rows not (or not yet) readable from the store, with their bytes in `data`."""
    rows = {row.id: row for row in known}
    data = dict(data or {})
    result = Outgoing(messages=[], items=[])
    seen: set[str] = set()
    for index, message in enumerate(messages):
        entries = list(message.get("files") or []) if message.get("role") == "user" else []
        posted: list[dict[str, Any]] = []
        images: list[str] = []
        for entry in entries:
            row = rows.get(str(entry.get("id"))) or await store.files.get(str(entry.get("id")))
            if entry.get("type") == "image":
                url = _data_url(row, data)
                if url is None:  # its copy is gone (deleted by hand): the text goes without it
                    continue
                images.append(url)
                posted.append({"type": "image", "url": url})
                continue
            posted.append(dict(entry))
            if row is not None and row.content is not None:
                result.texts[row.id] = {"name": row.meta.get("name", row.filename), "text": row.content}
            if entry.get("id") not in seen:
                seen.add(str(entry.get("id")))
                result.items.append(dict(entry))
        content: Any = message.get("content")
        if images:
            content = [{"type": "text", "text": content}, *({"type": "image_url", "image_url": {"url": u}} for u in images)]
        result.messages.append({"role": message["role"], "content": content, "files": posted})
        if index == len(messages) - 1:
            result.current = [dict(p) for p in posted]
    add_file_context(result.messages)
    return result


def _data_url(row: FileRow | None, data: Mapping[str, bytes]) -> str | None:
    if row is None:
        return None
    raw = data.get(row.id)
    if raw is None:
        try:
            raw = row.read_bytes()
        except OSError:
            return None
    return f"data:{row.meta.get('content_type')};base64,{base64.b64encode(raw).decode('ascii')}"
