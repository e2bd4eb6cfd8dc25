"""Live reload: keeping stored functions in step with files on disk.

An author edits a pipe in their own editor; each save of the file is saved into
the store like an edit in the app (checked, loaded, kept as a version), so the
next message uses the new code. A file that fails to load is kept as a refused
version with its error, and the last good source keeps serving.

Files are polled: one `stat` every few hundred milliseconds costs nothing, works
on every platform and file system, and needs no dependency. Editors that save by
writing a new file and renaming it over the old one are caught by the inode.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tuichat.runtime.errors import FunctionLoadError, RuntimeErrorBase
from tuichat.runtime.library import FunctionLibrary, InstallPolicy, SourceError, decode_source, guess_type
from tuichat.runtime.loading.requirements import RequirementError
from tuichat.store import FunctionRow, function_id_from_filename

POLL_INTERVAL = 0.3  # seconds between looks at a watched file


@dataclass(frozen=True)
class WatchReport:
    """What happened when a watched file changed (or could not be read)."""

    function_id: str
    path: str
    ok: bool
    message: str  # one line for a status bar or a log
    detail: str = ""  # the pipe's traceback, when it failed to load
    line: int | None = None  # where it failed, 1-based, when known
    at: float = 0.0  # time.time() of the report

    @property
    def changed(self) -> bool:
        return self.ok and not self.message.startswith("unchanged")


Reporter = Callable[[WatchReport], None]
Signature = tuple[int, int, int] | None
_UNSEEN = object()


def _signature(path: Path) -> Signature:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


async def sync_file(
    library: FunctionLibrary, function_id: str, path: Path, policy: InstallPolicy | None = None
) -> WatchReport:
    """Save the file's current text into the function, as an edit in the app would be."""
    where = str(path)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return WatchReport(function_id, where, False, f"cannot read {where}: {reason}; the last good version keeps serving", at=time.time())
    try:
        text = decode_source(data, where)
        saved = await library.save_source(function_id, text, origin="watched", policy=policy)
    except FunctionLoadError as error:
        line = f" (line {error.line})" if error.line and f"line {error.line}" not in str(error) else ""
        return WatchReport(
            function_id, where, False, f"{path.name}{line}: {error}; the last good version keeps serving",
            error.detail, error.line, time.time(),
        )
    except (SourceError, RequirementError, RuntimeErrorBase) as error:
        return WatchReport(function_id, where, False, f"{path.name}: {error}; the last good version keeps serving", at=time.time())
    if not saved.changed:
        return WatchReport(function_id, where, True, f"unchanged: {path.name} matches '{function_id}'", at=time.time())
    if saved.problem:
        return WatchReport(function_id, where, False, f"'{function_id}' stored from {path.name} but inactive: {saved.problem}", at=time.time())
    return WatchReport(function_id, where, True, f"reloaded '{function_id}' from {path.name}", at=time.time())


async def link_file(library: FunctionLibrary, path: Path, function_id: str | None = None) -> tuple[FunctionRow, WatchReport]:
    """Link a file to a function (its id from the file name by default), creating the
    function when it is new, even from a file that does not load yet: it is stored
    inactive with the error, so the author can fix the file and watch it come alive."""
    path = path.expanduser().resolve()
    fid = function_id or function_id_from_filename(path.stem)
    existing = await library.store.functions.get(fid)
    if not path.exists():
        return await _start_file(library, path, fid, existing)
    if existing is None:
        try:
            text = decode_source(path.read_bytes(), str(path))
        except OSError as exc:
            raise SourceError(f"cannot read {path}: {exc.strerror}. Check the path and try again.") from None
        try:
            await library.add(text, function_id=fid, source=str(path), origin="watched")
        except (FunctionLoadError, RequirementError) as error:
            await library.store.functions.insert(
                id=fid, name=fid, type=_type_of(text), content=text, is_active=False, load_error=str(error), origin="watched"
            )
    await library.link(fid, str(path))
    report = await sync_file(library, fid, path)
    return await library.get(fid), report


async def _start_file(library: FunctionLibrary, path: Path, fid: str, existing: FunctionRow | None) -> tuple[FunctionRow, WatchReport]:
    """A file that does not exist yet is started: from the function's code when it is stored,
    else from the streaming pipe template (a new function too), then linked."""
    try:
        file = open(path, "x", encoding="utf-8")  # never over a file made meanwhile
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SourceError(f"cannot create {path}: {reason}. Check the folder exists and is writable.") from None
    with file:
        try:
            row = existing if existing is not None else await library.create(fid, name=fid)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        file.write(row.content)
    await library.link(fid, str(path))
    origin = f"the code of '{fid}'" if existing is not None else f"the pipe template, as the new pipe '{fid}'"
    report = WatchReport(fid, str(path), True, f"created {path.name} from {origin}; edit it and save", at=time.time())
    return await library.get(fid), report


def _type_of(text: str) -> str:
    try:
        return guess_type(text)
    except SyntaxError:
        return "pipe"


class FileWatch:
    """Polls one file and syncs it into one function whenever it changes."""

    def __init__(self, library: FunctionLibrary, function_id: str, path: Path, report: Reporter, interval: float = POLL_INTERVAL) -> None:
        self.library = library
        self.function_id = function_id
        self.path = path
        self.report = report
        self.interval = interval
        # Unknown until the first look, which syncs: a save made between an earlier sync and
        # this watch starting would otherwise be taken as already seen.
        self._seen: Signature | object = _UNSEEN
        self._missing_reported = False

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.interval)

    async def check(self) -> None:
        signature = _signature(self.path)
        if signature == self._seen:
            return
        self._seen = signature
        if signature is None:
            # Editors briefly remove the file while saving; only a lasting absence is news.
            await asyncio.sleep(self.interval)
            if _signature(self.path) is None and not self._missing_reported:
                self._missing_reported = True
                self.report(WatchReport(self.function_id, str(self.path), False,
                                        f"{self.path} is gone; '{self.function_id}' keeps its last good version", at=time.time()))
            return
        self._missing_reported = False
        result = await sync_file(self.library, self.function_id, self.path)
        if result.message.startswith("unchanged"):
            return
        self.report(result)


class Watcher:
    """Runs a FileWatch for every function linked to a file; `refresh` after links change."""

    def __init__(self, library: FunctionLibrary, report: Reporter, interval: float = POLL_INTERVAL) -> None:
        self.library = library
        self.report = report
        self.interval = interval
        self._tasks: dict[str, tuple[str, asyncio.Task[None]]] = {}

    @property
    def watched(self) -> dict[str, str]:
        """function id -> path of every file being watched."""
        return {fid: path for fid, (path, _) in self._tasks.items()}

    async def refresh(self) -> None:
        linked = {row.id: row.linked_path for row in await self.library.store.functions.linked() if row.linked_path}
        for fid in list(self._tasks):
            if linked.get(fid) != self._tasks[fid][0]:
                self._stop(fid)
        for fid, path in linked.items():
            if fid not in self._tasks:
                # A file changed while tuichat was not running is caught up first.
                result = await sync_file(self.library, fid, Path(path))
                if not result.message.startswith("unchanged"):
                    self.report(result)
                watch = FileWatch(self.library, fid, Path(path), self.report, self.interval)
                self._tasks[fid] = (path, asyncio.create_task(watch.run(), name=f"watch {fid}"))

    def _stop(self, fid: str) -> None:
        _, task = self._tasks.pop(fid)
        task.cancel()

    async def close(self) -> None:
        tasks = [task for _, task in self._tasks.values()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def describe_path(path: str) -> str:
    """A linked path as the user would type it: relative to home where it can be."""
    home = str(Path.home())
    return "~" + path[len(home):] if path.startswith(home + os.sep) else path
