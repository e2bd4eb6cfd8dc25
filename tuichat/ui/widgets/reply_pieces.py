"""A reply view's folds, images and files among its text: which text widget is being
written, and what a write mounts between texts (see runtime.reply.details).

A reply with none (most) keeps one text widget, `#content`, and costs a splitter feed per
update. When a block or an image comes, the text so far is sealed, the fold or image is
mounted after it, and a new text widget after that takes what follows. Files that `files`
events send go under the text as they come, and stay there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from textual.widget import Widget

from tuichat.runtime.reply.details import Details, Piece, RichSplitter, has_rich, split_rich
from tuichat.runtime.reply.media import media_of_file
from tuichat.runtime.reply.model import ActivityEntry
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.widgets.reply_text import ReplyText
from tuichat.ui.widgets.rich_pieces import DetailsFold, MediaView, piece_widget, piece_widgets
from tuichat.ui.widgets.stored_markdown import StoredMarkdown

FILES_EVENTS = ("files", "chat:message:files")


def stored_text(content: str, files: list[Any]) -> Iterator[Widget]:
    """A stored reply's text: one Markdown, or with folds and images, its pieces (the first
    text is still `#content`), then its files."""
    pieces: list[Piece] = split_rich(content) if has_rich(content) else [content]
    first = pieces.pop(0) if pieces and isinstance(pieces[0], str) else ""
    yield StoredMarkdown(neutralise(first), id="content")
    yield from piece_widgets(pieces, reply_done=True)
    for item in files:
        if isinstance(item, dict):
            yield MediaView(media_of_file(item), classes="file")


def files_of(event: ActivityEntry | None) -> list[dict[str, Any]]:
    """The files a `files` event sent."""
    data = event.data if event is not None and event.kind == "event" else None
    if not isinstance(data, dict) or data.get("type") not in FILES_EVENTS or not isinstance(data.get("data"), dict):
        return []
    files = data["data"].get("files")
    return [item for item in files if isinstance(item, dict)] if isinstance(files, list) else []


class ReplyPieces:
    """The pieces of a streaming reply view (`view`), written in order."""

    def __init__(self, view: Widget) -> None:
        self.view = view
        self.splitter = RichSplitter()
        self.files: list[dict[str, Any]] = []  # files events' files not shown yet
        self._text: ReplyText | None = None  # the text being written (after the last fold)

    @property
    def text(self) -> ReplyText:
        if self._text is None:
            self._text = self.view.query_one("#content", ReplyText)
        return self._text

    def restart(self) -> None:
        """The text is replaced: split it afresh."""
        self.splitter = RichSplitter()

    async def write(self, pending: list[Piece]) -> str:
        """Mount the folds and images among `pending` in order, each after the text before
        it (sealed) and before a new text for what follows; returns the text left to write."""
        if all(isinstance(piece, str) for piece in pending):
            return "".join(pending)  # type: ignore[arg-type]
        run: list[str] = []
        for piece in pending:
            if isinstance(piece, str):
                run.append(piece)
                continue
            shown = next((w for w in self.view.query_children(DetailsFold) if w.block.n == piece.n), None)
            if isinstance(piece, Details) and shown is not None:
                shown.update_block(piece)
                continue
            text = self.text
            await text.write("".join(run), final=True)
            run.clear()
            after = ReplyText()
            after.add_class("more")
            await self.view.mount_all([piece_widget(piece, reply_done=False), after], after=text)
            self._text = after
        return "".join(run)

    async def start_over(self) -> None:
        """The text was replaced: drop the folds, images and texts after the first (the
        files events sent stay: they are not part of the text)."""
        first = self.view.query_one("#content", ReplyText)
        extra = [c for c in self.view.children if isinstance(c, DetailsFold)
                 or (isinstance(c, MediaView) and not c.has_class("file"))
                 or (isinstance(c, ReplyText) and c is not first)]  # fmt: skip
        if extra:
            await self.view.remove_children(extra)
        self._text = first
        await first.replace("")

    async def show_files(self) -> None:
        """Files that `files` events sent, under the text (folds and text that come later
        are mounted above them, as a stored reply shows its files)."""
        files, self.files = self.files, []
        shown = list(self.view.query_children(MediaView).results(MediaView))
        after = shown[-1] if shown and shown[-1].has_class("file") else self.text
        await self.view.mount_all([MediaView(media_of_file(item), classes="file") for item in files], after=after)

    def finish(self) -> None:
        """The reply ended: blocks left running show as done (Open WebUI's `messageDone`)."""
        for fold in self.view.query_children(DetailsFold).results(DetailsFold):
            fold.update_block(fold.block, reply_done=True)
