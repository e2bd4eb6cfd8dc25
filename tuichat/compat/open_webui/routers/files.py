"""`open_webui.routers.files`: uploading a file, as pipes that make images or videos do.

`upload_file` and `upload_file_handler` are Open WebUI 0.12.4's, called as plain
functions: the bytes go to `Storage` (the upload folder of the host running the
pipe) as `<id>_<name>`, a record goes to `Files` with Open WebUI's `data` and `meta`
(name, content type, size, sha-256, the caller's metadata), and the result is what
Open WebUI returns: the FileModel when `process=False`, else `{"status": True,
**file}`. Open WebUI would then extract the text for retrieval; tuichat has no
retrieval, so "processing" keeps the text of a text file as `data.content` and
marks it completed, and leaves other files as they are.

The file's URL is `request.app.url_path_for("get_file_content_by_id", id=file.id)`,
`/api/v1/files/<id>/content`, as in Open WebUI.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import logging
import os
import uuid
from typing import Any

from tuichat.compat._names import module_getattr
from tuichat.compat.open_webui.constants import ERROR_MESSAGES
from tuichat.compat.open_webui.models.files import FileForm, FileModel, FileModelResponse, Files
from tuichat.compat.open_webui.storage.provider import Storage

__all__ = ["FileForm", "FileModel", "FileModelResponse", "Files", "upload_file", "upload_file_handler"]

log = logging.getLogger(__name__)


def _http_error(status_code: int, detail: str) -> Exception:
    from fastapi import HTTPException

    return HTTPException(status_code=status_code, detail=detail)


async def upload_file(
    request: Any = None,
    background_tasks: Any = None,
    file: Any = None,
    metadata: dict[str, Any] | str | None = None,
    process: bool = True,
    process_in_background: bool = True,
    user: Any = None,
    db: Any = None,
) -> Any:
    """The `POST /api/v1/files/` route: `upload_file_handler`, then Open WebUI's
    "file uploaded" event (which has no listener here)."""
    return await upload_file_handler(
        request,
        file=file,
        metadata=metadata,
        process=process,
        process_in_background=process_in_background,
        user=user,
        background_tasks=background_tasks,
        db=db,
    )


async def upload_file_handler(
    request: Any = None,
    file: Any = None,
    metadata: dict[str, Any] | str | None = None,
    process: bool = True,
    process_in_background: bool = True,
    user: Any = None,
    background_tasks: Any = None,
    db: Any = None,
) -> Any:
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            raise _http_error(400, ERROR_MESSAGES.DEFAULT("Invalid metadata format")) from None
    file_metadata: dict[str, Any] = metadata if metadata else {}
    try:
        name = os.path.basename(file.filename)
        extension = os.path.splitext(name)[1][1:].lower()
        file_id = str(uuid.uuid4())
        tags = {
            "OpenWebUI-User-Email": user.email,
            "OpenWebUI-User-Id": user.id,
            "OpenWebUI-User-Name": user.name,
            "OpenWebUI-File-Id": file_id,
        }
        try:
            contents, file_path = await asyncio.to_thread(Storage.upload_file, file.file, f"{file_id}_{name}", tags)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise _http_error(400, ERROR_MESSAGES.DEFAULT(exc.strerror or "Error uploading file")) from exc
            file.file.seek(0)
            short = f"{file_id}.{extension}" if extension else file_id
            contents, file_path = await asyncio.to_thread(Storage.upload_file, file.file, short, tags)
        file_hash = file_metadata.get("file_hash") or hashlib.sha256(contents).hexdigest()
        content_type = file.content_type if isinstance(file.content_type, str) else None
        file_item = await Files.insert_new_file(
            user.id,
            FileForm(
                id=file_id,
                filename=name,
                path=file_path,
                data={"status": "pending"} if process else {},
                meta={
                    "name": name,
                    "content_type": content_type,
                    "size": len(contents),
                    "file_hash": file_hash,
                    "data": file_metadata,
                },
            ),
        )
        if not file_item:
            raise _http_error(400, ERROR_MESSAGES.DEFAULT("Error uploading file"))
        if process:
            processed = _process(file_item, contents, content_type)
            return {"status": True, **processed.model_dump()}
        return file_item
    except Exception as exc:
        if type(exc).__name__ == "HTTPException":
            raise
        log.exception(exc)
        empty = isinstance(exc, ValueError) and exc.args == (ERROR_MESSAGES.EMPTY_CONTENT,)
        raise _http_error(400, ERROR_MESSAGES.EMPTY_CONTENT if empty else ERROR_MESSAGES.DEFAULT("Error uploading file")) from exc


def _process(file_item: FileModel, contents: bytes, content_type: str | None) -> FileModel:
    """What tuichat can do of Open WebUI's processing: keep a text file's text."""
    if content_type and content_type.startswith(("image/", "video/", "audio/")):
        data: dict[str, Any] = {"status": "completed", "error": None}
    else:
        try:
            data = {"status": "completed", "error": None, "content": contents.decode("utf-8")}
        except UnicodeDecodeError:
            data = {"status": "failed", "error": f"File type {content_type} is not supported for processing"}
    updated = Files.update_file_data_by_id(file_item.id, data)
    return updated if isinstance(updated, FileModel) else file_item


__getattr__ = module_getattr(__name__)
