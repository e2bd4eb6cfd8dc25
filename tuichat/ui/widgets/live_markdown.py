"""A segment of a streaming reply while it is written: its blocks, updated in place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from functools import cache

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Label, Markdown, Static
from textual.widgets._markdown import (
    MarkdownBlock,
    MarkdownFence,
    MarkdownParagraph,
)

from tuichat.ui.widgets.settled import KeptLines, Settled


@cache
def parser() -> MarkdownIt:
    # Textual's Markdown parser, but raw HTML is text: Textual drops HTML blocks and tags,
    # so a pipe's `<br>` or `<div>…</div>` would vanish; shown as written, nothing is lost.
    return MarkdownIt("gfm-like", {"html": False})


# Lines kept blank under the block being written, so that its next lines take them instead
# of changing its height: a new height lays out the whole screen, where a line written in
# place repaints one block. A new block has them from the start (its mount is a layout anyway).
BLOCK_RESERVE = 3


class _Reserved:
    """A block, or a fence's code, that keeps `reserved` content lines at least. Its height
    comes from here, not from `min-height`: a stream layout (a segment's) ignores styles set
    in code."""

    reserved = 1 + BLOCK_RESERVE

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(self.text_height(container, viewport, width), self.reserved)

    def text_height(self, container: Size, viewport: Size, width: int) -> int:
        return super().get_content_height(container, viewport, width)  # type: ignore[misc, no-any-return]


class _LiveBlock(_Reserved, Settled):
    """A top-level block of the live segment, written in place: kept lines, one layout."""


def _quiet_update(widget: _Reserved, content: Content) -> None:
    """Show new content in the block being written: a repaint while it fits the widget's
    reserved lines, else a layout, with BLOCK_RESERVE blank lines under it again."""
    assert isinstance(widget, Static)
    widget.update(content, layout=False)
    width = widget.content_region.width
    if not widget.is_mounted or not width:  # a new block: the layout that places it measures it
        return
    needed = widget.text_height(widget.size, widget.app.size, width)
    if needed > widget.reserved:
        widget.reserved = needed + BLOCK_RESERVE
        widget.refresh(layout=True)


def drop_reserve(block: Widget) -> None:
    """The blank lines kept under a block that is no longer the one being written."""
    for widget in (block, *block.query_children("#code-content")):
        if isinstance(widget, _Reserved) and widget.reserved:
            widget.reserved = 0
            widget.refresh(layout=True)


class _LiveParagraph(_LiveBlock, MarkdownParagraph):
    def set_content(self, content: Content) -> None:
        self._content = content
        _quiet_update(self, content)


class _LiveHeading(_LiveBlock):
    """A heading grown in place (mixed into each level's class: Textual's CSS styles a widget
    by the first widget class among its bases, so that one must be MarkdownH1..6)."""

    def set_content(self, content: Content) -> None:
        self._content = content  # type: ignore[attr-defined]
        width = self.styles.width  # type: ignore[attr-defined]
        if width is not None and width.is_auto:  # as wide as its text (h3 and below): a layout
            self.update(content)  # type: ignore[attr-defined]
        else:
            _quiet_update(self, content)  # type: ignore[arg-type]


_LIVE_HEADINGS: dict[str, type[MarkdownBlock]] = {
    f"h{level}": type(f"_LiveH{level}", (_LiveHeading, Markdown.BLOCKS[f"h{level}"]), {}) for level in range(1, 7)
}


class _CodeLabel(_Reserved, Label):
    """A live fence's code. Neither it nor the fence is `Settled`: a layout it asks for places
    it, but Textual records the request under the fence, not the fence under its segment, so
    the segment's stream layout keeps the fence's old height until the fence's second layout
    (settling them painted streamed replies otherwise than stored ones)."""


class _LiveFence(MarkdownFence):
    def compose(self) -> ComposeResult:
        yield _CodeLabel(self._highlighted_code, id="code-content", expand=True)  # as MarkdownFence's

    def set_content(self, content: Content) -> None:
        self._content = content
        for label in self.query_children("#code-content").results(_CodeLabel):
            _quiet_update(label, content)


class _SourceBlock(_LiveBlock, MarkdownBlock):
    """A list, table or quote while it is the block being written: its Markdown source, as
    text, updated in place. Textual rebuilds these blocks' widgets on every append (a table
    has one per cell), which cost more than everything else a token does; the block renders
    as Markdown once the next one starts (`LiveMarkdown.settle`)."""

    DEFAULT_CSS = """
    Markdown > _SourceBlock { margin: 0 0 1 0; }
    """

    def compose(self) -> ComposeResult:
        self._blocks.clear()  # its items, rows or paragraphs show as source
        yield from ()

    def on_mount(self) -> None:
        _quiet_update(self, Content((self.source or "").rstrip("\n")))

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        if isinstance(block, _SourceBlock):
            _quiet_update(self, Content((self.source or "").rstrip("\n")))
        else:
            await super()._update_from_block(block)


class LiveMarkdown(KeptLines, Settled, Markdown):
    """A segment of a streaming reply. While it is the one being written (`live`), its last
    block is updated in place as text arrives and lays the screen out again only when it
    grows past its reserved lines; lists, tables and quotes show as source until complete.
    Once sealed, it renders like any Markdown."""

    LIVE_BLOCKS: dict[str, type[MarkdownBlock]] = {
        "paragraph_open": _LiveParagraph,
        "fence": _LiveFence,
        "code_block": _LiveFence,
        "bullet_list_open": _SourceBlock,
        "ordered_list_open": _SourceBlock,
        "table_open": _SourceBlock,
        "blockquote_open": _SourceBlock,
        **_LIVE_HEADINGS,
    }

    def __init__(self) -> None:
        super().__init__(parser_factory=parser)
        self.live = True

    def get_block_class(self, block_name: str) -> type[MarkdownBlock]:
        if self.live and block_name in self.LIVE_BLOCKS:
            return self.LIVE_BLOCKS[block_name]
        return super().get_block_class(block_name)

    def append(self, markdown: str) -> AwaitComplete:
        """`Markdown.append`, re-parsing from where the last block starts: `update` leaves
        the line it re-parses from after a trailing blank line, past that block, and `append`
        then overwrites the block with the next one (a heading became the fence under it)."""
        blocks = [child for child in self.children if isinstance(child, MarkdownBlock)]
        self._last_parsed_line = blocks[-1].source_range[0] if blocks else 0
        return super().append(markdown)

    def grow(self, text: str) -> bool:
        """Add `text` to the block being written, in place, if it stays one block of the
        same kind (else False: `append` it). `append` builds a new block widget for every
        write and copies it over, which cost more than the repaint the write needs."""
        last = self.children[-1] if self.children else None
        if not isinstance(last, (_LiveParagraph, _LiveHeading, _LiveFence, _SourceBlock)) or self.lock.is_locked:
            return False
        source = self.source + text
        first_line = self._last_parsed_line = last.source_range[0]  # see `append`
        tokens = parser().parse("".join(source.splitlines(keepends=True)[first_line:]))
        blocks = [token for token in tokens if token.level == 0 and token.nesting >= 0]
        block = blocks[0] if len(blocks) == 1 else None
        if block is None or not block.map or block.map[0] != 0 or block.type != last._token.type:
            return False
        if isinstance(last, _LiveFence) and block.info != last.lexer or block.tag != last._token.tag:
            return False
        self._markdown = source
        last._token, last.source_range = block, (first_line + block.map[0], first_line + block.map[1])
        if isinstance(last, (_LiveParagraph, _LiveHeading)):
            last.build_from_token(tokens[1])  # the paragraph's or heading's inline token
        elif isinstance(last, _LiveFence):
            last.code = block.content.rstrip()
            theme = self.app.current_theme
            last._highlighted_code = last.highlight(last.code, last.lexer, self.app.native_ansi_color, theme.dark)
            last.set_content(last._highlighted_code)
        else:
            _quiet_update(last, Content((last.source or "").rstrip("\n")))
        return True

    def blocks_from_last(self, text: str) -> int:
        """How many top-level blocks `text` holds from where the last block starts."""
        blocks = [child for child in self.children if isinstance(child, MarkdownBlock)]
        first_line = blocks[-1].source_range[0] if blocks else 0
        tokens = parser().parse("".join(text.splitlines(keepends=True)[first_line:]))
        return sum(1 for token in tokens if token.level == 0 and token.nesting >= 0)

    async def settle(self) -> None:
        """Render the lists, tables and quotes above the block being written: they are
        complete (no text appended later can change a block above the last)."""
        await self._render_sources(self.children[:-1])

    async def seal(self, text: str) -> None:
        """End the segment at `text`, its complete blocks: the block that follows goes to
        the next segment, and every block left renders as one Markdown of `text` would.
        Blocks written in place are right as they stand (a block whose kind changed was
        rebuilt by `append`), so only lists, tables and quotes render anew."""
        end = len(text.splitlines())
        self._markdown = text
        after = [block for block in self.children if isinstance(block, MarkdownBlock) and block.source_range[0] >= end]
        if after:
            await self.remove_children(after)
        self.live = False
        for block in self.children:
            drop_reserve(block)
        await self._render_sources(self.children)

    async def _render_sources(self, blocks: Iterable[Widget]) -> None:
        """Replace the blocks shown as source by their rendering, all in one round trip."""
        pending: list[Awaitable[object]] = []
        for block in [block for block in blocks if isinstance(block, _SourceBlock)]:
            live, self.live = self.live, False  # the real widgets, not the live ones
            try:
                rendered = list(self._parse_markdown(parser().parse(block.source or "")))
            finally:
                self.live = live
            start = block.source_range[0]
            for new in rendered:
                new.source_range = (new.source_range[0] + start, new.source_range[1] + start)
            if rendered:
                pending.append(self.mount_all(rendered, before=block))
            pending.append(block.remove())
        if pending:
            await asyncio.gather(*pending)
