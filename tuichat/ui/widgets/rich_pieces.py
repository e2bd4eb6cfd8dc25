"""What a reply holds besides Markdown: `<details>` folds and images/files, as widgets.

The runtime splits the text (`runtime.reply.details`); these show its pieces. A fold is one
line (▶ and Open WebUI's title) that opens, by Enter or a click, onto what it holds: a tool
call's input and output as pretty JSON, a block's Markdown (nested folds and images too).
Its body is built the first time it opens, so a reply with many folds costs one line each.
An image is decoded once, scaled to a bounded size, and drawn by textual-image (see
`images`); anything that goes wrong is one line saying what.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Click
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

from tuichat.runtime.reply.details import Details, Image, Piece, details_title, split_rich, tool_call_files, tool_call_sections
from tuichat.runtime.reply.media import Media, human_size, load, media_of_file
from tuichat.runtime.untrusted import neutralise
from tuichat.ui.widgets.reply_parts import SPINNER
from tuichat.ui.widgets.stored_markdown import StoredMarkdown


def piece_widgets(pieces: Iterable[Piece], *, reply_done: bool) -> Iterator[Widget]:
    """A widget for each piece: Markdown for text, a fold for a block, a view for an image."""
    for piece in pieces:
        if isinstance(piece, str):
            if piece.strip():
                yield StoredMarkdown(neutralise(piece), classes="rich-text")
        else:
            yield piece_widget(piece, reply_done=reply_done)


def piece_widget(piece: Details | Image, *, reply_done: bool) -> Widget:
    if isinstance(piece, Details):
        return DetailsFold(piece, reply_done=reply_done)
    return MediaView(Media(piece.alt, piece.url, True))


class DetailsFold(Widget, can_focus=True):
    """A `<details>` block: a title line, and its body once opened."""

    BINDINGS = [Binding("enter,space", "toggle", "Open/close", show=False, id="fold.toggle")]

    DEFAULT_CSS = """
    DetailsFold {
        height: auto;
        padding: 0 2;
        & > .title { color: $text-muted; }
        &:focus > .title { color: $text; background: $accent 30%; text-style: bold; }
        & > .body { height: auto; padding: 0 0 0 2; display: none; }
        &.-open > .body { display: block; }
        &.-running > .title { color: $text; }
    }
    """

    def __init__(self, block: Details, *, reply_done: bool) -> None:
        super().__init__(classes="details-fold")
        self.block = block
        self.reply_done = reply_done
        self._built = False
        self._spin = 0
        self._timer: Timer | None = None

    @property
    def running(self) -> bool:
        return not self.block.done(self.reply_done) or (not self.block.closed and not self.reply_done)

    @property
    def open(self) -> bool:
        return self.has_class("-open")

    def compose(self) -> ComposeResult:
        yield Static(self._title(), classes="title", markup=False)
        yield Widget(classes="body")

    def on_mount(self) -> None:
        self._spin_while_running()

    def _spin_while_running(self) -> None:
        self.set_class(self.running, "-running")
        if self.running and self._timer is None:
            self._timer = self.set_interval(0.2, self._next_spin, name="fold spinner")
        elif not self.running and self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _title(self) -> Content:
        block = self.block
        mark = "▼" if self.open else "▶"
        if self.running:
            mark = SPINNER[self._spin % len(SPINNER)]
        title = neutralise(details_title(block, self.reply_done))
        extra = ""
        if block.kind == "tool_calls" and block.attrs.get("status") == "failed":
            extra = " (failed)"
        if not block.closed and self.reply_done:
            extra += " (never closed: </details> is missing)"
        return Content.assemble(f"{mark} ", (title, "bold" if self.running else ""), extra)

    def _next_spin(self) -> None:
        if not self.running:
            return
        self._spin += 1
        self.query_one(".title", Static).update(self._title())

    def update_block(self, block: Details, *, reply_done: bool | None = None) -> None:
        """The block grew (its summary, or it closed) or the reply ended."""
        self.block = block
        if reply_done is not None:
            self.reply_done = reply_done
        if self.is_mounted:
            self._spin_while_running()
        if self._built:
            self._built = False
            body = self.query_one(".body", Widget)
            body.remove_children()
            if self.open:
                self._build()
        if self.is_mounted:
            self.query_one(".title", Static).update(self._title())

    def toggle(self) -> None:
        self.set_class(not self.open, "-open")
        if self.open and not self._built:
            self._build()
        self.query_one(".title", Static).update(self._title())

    def action_toggle(self) -> None:
        self.toggle()

    def on_click(self, event: Click) -> None:
        event.stop()
        self.toggle()

    def _build(self) -> None:
        self._built = True
        self.query_one(".body", Widget).mount_all(list(self._body()))

    def _body(self) -> Iterator[Widget]:
        block = self.block
        if not block.closed and not self.reply_done:
            yield Static("(still running: what it holds shows when it ends)", classes="note", markup=False)
            return
        if block.kind == "tool_calls":
            sections = tool_call_sections(block)
            if block.body:
                sections.append(("", block.body))
            yield Static(_sections(sections) if sections else "(no input, no output)", classes="sections", markup=False)
            for item in tool_call_files(block):
                yield MediaView(media_of_file(item))
            return
        pieces = split_rich(block.body) if block.body else []
        if not pieces:
            yield Static("(empty)", classes="note", markup=False)
        yield from piece_widgets(pieces, reply_done=self.reply_done)


def _sections(sections: list[tuple[str, str]]) -> Content:
    """Labelled blocks of text: the label bold, the text under it."""
    parts: list[str | tuple[str, str]] = []
    for label, text in sections:
        if parts:
            parts.append("\n")
        if label:
            parts.append((label + "\n", "bold"))
        parts.append(neutralise(text))
    return Content.assemble(*parts)


class MediaView(Widget):
    """An image (drawn) or a file (one line), with its name and size."""

    DEFAULT_CSS = """
    MediaView {
        height: auto;
        padding: 0 2;
        & > .caption { color: $text-muted; }
        & > .error { color: $text-warning; }
        & > .picture { width: auto; height: auto; }
    }
    """

    def __init__(self, media: Media, classes: str = "") -> None:
        super().__init__(classes=f"media {classes}".strip())
        self.media = media
        self.loaded = None

    def compose(self) -> ComposeResult:
        from tuichat.ui.widgets.images import picture  # PIL and textual-image: only when needed

        media = self.media
        loaded = self.loaded = load(media.url)
        icon = "🖼" if media.image else "📎"
        name = neutralise(media.name or loaded.where)
        facts = [fact for fact in (loaded.mime, human_size(loaded.size) if loaded.size is not None else "") if fact]
        if loaded.error is not None:
            where = "" if loaded.where == name else f" {neutralise(loaded.where)}"
            yield Static(f"{icon} {name}{where}: {loaded.error}", classes="error", markup=False)
            return
        widget, shape = (picture(loaded.data) if media.image and loaded.data is not None else (None, ""))
        if media.image and widget is None:
            yield Static(f"{icon} {name} · {' · '.join(facts)}: cannot show it: {shape}", classes="error", markup=False)
            return
        caption = " · ".join([name, *facts, *([shape] if shape else [])])
        yield Static(f"{icon} {caption} (F5 saves it)", classes="caption", markup=False)
        if widget is not None:
            widget.add_class("picture")
            yield widget
