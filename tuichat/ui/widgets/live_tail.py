"""The end of a streaming reply, drawn in one widget: the block being written and the
complete blocks since the last seal, painted line by line as a Markdown of the same text
paints them.

A Markdown shows each block as a widget of its own, so every new block, and every line a
block grows past the lines kept for it, lays the whole screen out again (~20 ms on a
2-core machine, 350 times for a 12,000-character reply). The tail draws its blocks itself:
a token costs the lines it changed, and a layout comes only when the tail outgrows the
blank lines it keeps under its text, when the text above it is sealed (`ReplyText`: as the
lines drawn, `DrawnSegment`, or a Markdown for what only its widgets draw). Its blocks look
as the Markdown's will because they are drawn with the styles of hidden blocks of the same
kinds (`Looks`): each block is rendered the way
Textual renders a widget (`StylesCache`), with that block's styles, so a seal changes no
cell on screen.

Lists whose items are a paragraph each are drawn too, bullet beside text, as Textual's
Markdown lays them out. Tables, quotes, rules and other lists show as their Markdown source
until they are complete; then the tail is sealed, and they render (their widgets are what
Textual has to draw them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from markdown_it.token import Token
from rich.cells import cell_len
from rich.style import Style as RichStyle
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label, Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownBullet, MarkdownFence, MarkdownParagraph

from tuichat.ui.widgets.markdown_parser import line_start, parser
from tuichat.ui.widgets.settled import Settled
from tuichat.ui.widgets.stored_markdown import StoredMarkdown
from tuichat.ui.widgets.tail_frames import Frames, draw, framed, framed_at, unadorned

# One block of each kind the tail draws itself, in the order `Looks` finds them (the fence
# names a language: with none, Pygments guesses one, which loads every lexer).
_TEMPLATE = "# a\n\n## a\n\n### a\n\n#### a\n\n##### a\n\n###### a\n\na\n\n```text\na\n```\n\n- a\n\n1. a\n"
_LOOKS = ("h1", "h2", "h3", "h4", "h5", "h6", "paragraph", "fence", "bullet_list", "ordered_list")
_LISTS = {"bullet_list_open": "bullet_list", "ordered_list_open": "ordered_list"}


class Looks(StoredMarkdown):
    """Hidden blocks of every kind the tail draws, styled as a reply's Markdown blocks are
    (same place in the DOM, same theme): the tail reads their styles."""

    DEFAULT_CSS = "Looks { display: none; }"

    def __init__(self) -> None:
        super().__init__(_TEMPLATE)
        self._blocks_by_kind: dict[str, MarkdownBlock] = {}
        self._parts: dict[str, Widget] = {}  # found once: they are looked up on every write

    def _block(self, kind: str) -> MarkdownBlock:
        if not self._blocks_by_kind:  # (composed at its mount; the same blocks from then on)
            blocks = [child for child in self.children if isinstance(child, MarkdownBlock)]
            self._blocks_by_kind = dict(zip(_LOOKS, blocks, strict=True))
        return self._blocks_by_kind[kind]

    def block(self, kind: str) -> Widget:
        """The hidden block whose styles `kind` is drawn with (a fence: its code label)."""
        found = self._block(kind)
        return self.part(kind, Label) if kind == "fence" else found

    def part(self, kind: str, part: type[Widget]) -> Widget:
        """The first widget of type `part` in the hidden block of `kind` (a fence's code
        label, a list's bullet or its item's text)."""
        key = f"{kind}/{part.__name__}"
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = self._block(kind).query_one(part)
        return found

    def margins(self, kind: str) -> tuple[int, int]:
        margin = self._block(kind).styles.margin
        return margin.top, margin.bottom


@dataclass(frozen=True)
class Block:
    """A top-level block of the tail's text: its kind (a look), source and where it starts."""

    kind: str
    source: str
    line: int  # its first line in the tail's text
    token: Token
    inline: Token | None  # a paragraph's or heading's text
    items: tuple[tuple[Token, Token], ...] = ()  # a list's items: (list_item_open, its text)


def blocks_of(text: str, first_line: int = 0) -> list[Block]:
    """The top-level blocks of `text`, in order (`first_line`: the line `text` starts at,
    in a text its blocks are counted in)."""
    tokens = parser().parse(text)
    lines = text.splitlines(keepends=True)
    found: list[Block] = []
    for index, token in enumerate(tokens):
        if token.level or token.nesting < 0 or not token.map:
            continue
        start, end = token.map
        source = "".join(lines[start:end])
        start += first_line
        if token.type == "paragraph_open":
            found.append(Block("paragraph", source, start, token, tokens[index + 1]))
        elif token.type == "heading_open":
            found.append(Block(token.tag, source, start, token, tokens[index + 1]))
        elif token.type in ("fence", "code_block"):
            found.append(Block("fence", source, start, token, None))
        elif token.type in _LISTS and (items := _simple_items(tokens, index)):
            found.append(Block(_LISTS[token.type], source, start, token, None, items))
        else:  # tables, quotes, rules, lists with more than a paragraph an item: their source
            found.append(Block("source", source, start, token, None))
    return found


def _simple_items(tokens: Sequence[Token], opened: int) -> tuple[tuple[Token, Token], ...]:
    """The items of the list opened at `tokens[opened]` if each is one paragraph, with its
    text (none otherwise: a nested list, a fence or a second paragraph in an item)."""
    items: list[tuple[Token, Token]] = []
    index = opened + 1
    while index < len(tokens) and tokens[index].level > 0:
        shape = [token.type for token in tokens[index : index + 5]]
        if shape != ["list_item_open", "paragraph_open", "inline", "paragraph_close", "list_item_close"]:
            return ()
        items.append((tokens[index], tokens[index + 2]))
        index += 5
    return tuple(items)


def _symbols(block: Block) -> list[str]:
    """Each item's bullet, as Textual's Markdown draws them: an unordered list's first bullet,
    or an ordered list's numbers from the first item's, right-aligned with a space before."""
    if block.kind == "bullet_list":
        return [Markdown.BULLETS[0]] * len(block.items)
    try:
        start = int(block.items[0][0].info)
    except ValueError:
        start = 1
    numbers = [f"{number}. " for number in range(start, start + len(block.items))]
    widest = max(len(number) for number in numbers)
    return [number.rjust(widest + 1) for number in numbers]


@dataclass
class OpenFence:
    """The code above an open fence's last line, highlighted, and its lines rendered at the
    widths drawn: they don't change while that line is written."""

    key: tuple[object, ...]  # (the code, its language, the highlight theme, the look's style)
    head: Content
    natural: int  # its widest line
    lines: dict[int, list[Strip]] = field(default_factory=dict)


class LiveTail(Settled, Widget):
    """The blocks of a streaming reply since its last seal, drawn in one widget.

    `show(text)` draws `text`'s blocks and repaints the lines that changed; it keeps
    `reserved` lines in all (blank under the text), so that most writes take lines there
    instead of growing the tail, which would lay the screen out. `fits` says whether the
    text fits them; the owner (`ReplyText`) seals and reserves anew when it doesn't."""

    DEFAULT_CSS = "LiveTail { width: 1fr; height: auto; }"

    def __init__(self, looks: Looks, *, above: int = 0) -> None:
        super().__init__()
        self.looks = looks
        self.above = above  # the bottom margin of the block above (already on screen)
        self.text = ""  # the Markdown source shown
        self.blocks: list[Block] = []
        self.reserved = 0  # lines of height at least
        self._drawn: list[tuple[Block, object, list[Strip]]] = []  # (block, where drawn, lines)
        self._drawn_at: object = None  # the width and background colours the lines were drawn at
        self._lines: list[Strip] = []
        self._blank: Strip | None = None  # a blank line, framed
        self._frames = Frames()
        self._width = 0
        self._fence: OpenFence | None = None  # the lines above an open fence's last

    @property
    def lines_needed(self) -> int:
        return len(self._lines)

    @property
    def fits(self) -> bool:
        return len(self._lines) <= self.reserved

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width != self._width:
            self._draw(width)
        return max(len(self._lines), self.reserved)

    @property
    def laid_out(self) -> bool:
        """Whether a layout has given it a width (it draws nothing before)."""
        return bool(self._width)

    def show(self, text: str, *, sealed: bool = False) -> None:
        """Draw `text` and repaint the lines that changed. `sealed`: the text before `text`
        went into a segment above, which took the lines it had here: the blank lines kept
        stay as many (a layout places the segment anyway)."""
        self.blocks = self._blocks_of(text)
        self.text = text
        if not self._width:
            return
        old = self._lines
        self._draw(self._width)
        if sealed:
            self.reserved = max(0, self.reserved - (len(old) - len(self._lines)))
            self.refresh(layout=True)
            return
        first = next((y for y, (a, b) in enumerate(zip(old, self._lines)) if a is not b), min(len(old), len(self._lines)))
        last = max(len(old), len(self._lines))
        if first < last:
            self.refresh(Region(0, first, self._width, last - first))

    def _blocks_of(self, text: str) -> list[Block]:
        """`text`'s blocks. Those above the last block shown stay as they are when `text`
        only adds to what is shown (text appended can't change a block above the last),
        so only the text from the last block's start is parsed."""
        blocks = self.blocks
        if blocks and text.startswith(self.text):
            start = blocks[-1].line
            return blocks[:-1] + blocks_of(text[line_start(text, start) :], start)
        return blocks_of(text)

    def reserve(self, lines: int) -> None:
        """Keep `lines` in all (a layout)."""
        self.reserved = lines
        self.refresh(layout=True)

    def action_link(self, href: str) -> None:
        """A link clicked (its `@click` meta, as a Markdown block's): opened as a Markdown opens it."""
        self.app.open_url(href)

    def notify_style_update(self) -> None:
        """A new theme: every block drawn anew, with the looks' new styles (applied by then)."""
        super().notify_style_update()
        if self._width:
            self.call_after_refresh(self._restyle)

    def _restyle(self) -> None:
        self._drawn, self._blank, self._fence = [], None, None
        self._frames.forget()
        if self._width:
            self._draw(self._width)
            self.refresh(layout=True)

    def on_resize(self) -> None:
        if self.size.width != self._width:
            self._draw(self.size.width)
            self.refresh()

    def _draw(self, width: int) -> None:
        """All lines at `width`: each block drawn (or kept, if unchanged), margins between
        them collapsed as a Markdown's vertical layout collapses them. Lines are drawn in the
        Markdown's padding and background (a reply's Markdown has no border and no padding
        above or below, so each block is framed alone)."""
        looks = self.looks
        inner = max(1, width - looks.styles.padding.width)
        # Lines drawn stay while the width and the background under them do (a class set on
        # the reply without restyling the tail can change it: `set_mark`).
        at = (width, self._frames.begin(looks))
        if self._blank is None or at != self._drawn_at:
            base, background = at[1]
            blank = Strip.blank(inner, RichStyle.from_color(bgcolor=(base + background).rich_color))
            self._blank = framed(looks, [blank], width, inner, at[1])[0]
        self._width, self._drawn_at = width, at
        kept = {(block.source, block.kind, drawn_at): lines for block, drawn_at, lines in self._drawn}
        drawn: list[tuple[Block, object, list[Strip]]] = []
        lines: list[Strip] = []
        above = self.above
        for block in self.blocks:
            top, bottom = looks.margins("paragraph" if block.kind == "source" else block.kind)
            shown = kept.get((block.source, block.kind, at))
            if shown is None:
                shown = self._frames.frame(looks, self._draw_block(block, inner), width, inner)
            drawn.append((block, at, shown))
            lines += [self._blank] * (max(top, above) - above) + shown + [self._blank] * bottom
            above = bottom
        self._drawn = drawn
        self._lines = lines
        self._frames.drawn()

    def _draw_block(self, block: Block, width: int) -> list[Strip]:
        looks = self.looks
        if block.kind == "fence":
            return self._draw_fence(block, width)
        if block.kind == "source":
            return draw(looks.block("paragraph"), Content(block.source.rstrip("\n")), width, self._frames)
        if block.items:
            return self._draw_list(block, width)
        look = cast(MarkdownBlock, looks.block(block.kind))
        assert block.inline is not None
        return draw(look, look._token_to_content(block.inline), width, self._frames)

    def _draw_fence(self, block: Block, width: int) -> list[Strip]:
        """A fence's code, highlighted as its Markdown highlights it, each line cut at `width`
        (as a fence scrolled to its start shows it). While the fence is open, the line being
        written shows unhighlighted until it ends (half a line is lexed wrong anyway), and
        the lines above it are highlighted and rendered once, not on every write: that was
        a long fence's every write, the whole code highlighted again."""
        look, token = self.looks.block("fence"), block.token
        app = self.app
        ansi, dark = app.native_ansi_color, app.current_theme.dark
        code = token.content.rstrip()
        above, newline, last = code.rpartition("\n")
        fence = cast(MarkdownFence, look.parent)
        if token.content.endswith("\n") or not newline:  # closed (or a line alone): whole
            return draw(look, fence.highlight(code, token.info, ansi=ansi, dark=dark), width, self._frames, clip=True)
        padding = look.styles.padding
        key = (above, token.info, ansi, dark, look.visual_style)
        if self._fence is None or self._fence.key != key:
            head = fence.highlight(above, token.info, ansi=ansi, dark=dark)
            self._fence = OpenFence(key, head, max(line.cell_length for line in head.split("\n")))
        inner = max(1, width - padding.width, self._fence.natural, cell_len(last.expandtabs(8)))
        head_lines = self._fence.lines.get(inner)
        if head_lines is None:
            head_lines = self._fence.lines[inner] = self._frames.text(look, self._fence.head, inner)
        # The blank lines ending the code above that its highlighting dropped (one newline),
        # then the last line.
        head = self._fence.head.plain
        dropped = len(above) - len(above.rstrip("\n")) - (len(head) - len(head.rstrip("\n")))
        under = "\n" * dropped + last.expandtabs(8)
        under_lines = self._frames.text(look, Content(under).stylize_before("$text"), inner, len(head_lines))
        return framed_at(look, head_lines + under_lines, width, inner, self._frames)

    def _draw_list(self, block: Block, width: int) -> list[Strip]:
        """A list of one paragraph an item, as Textual's Markdown lays it out: a row per item,
        its bullet (a widget as wide as its symbol), and beside it a column with the text.
        Items drawn are kept while shown (a write changes the last)."""
        frames, found = self._frames, self.looks.block(block.kind)
        lines: list[Strip] = []
        for symbol, (_, inline) in zip(_symbols(block), block.items, strict=True):
            key = ("item", id(found), symbol, inline.content, width, frames.colors_of(found))
            item = frames.kept(key)
            if item is None:
                item = frames.keep(key, self._draw_item(block.kind, symbol, inline, width))
            lines += item
        return lines

    def _draw_item(self, kind: str, symbol: str, inline: Token, width: int) -> list[Strip]:
        frames, looks = self._frames, self.looks
        bullet_look = looks.part(kind, MarkdownBullet)
        text_look = cast(MarkdownParagraph, looks.part(kind, MarkdownParagraph))
        row, column = cast(Widget, bullet_look.parent), cast(Widget, text_look.parent)
        bullet = cell_len(symbol)
        text = draw(text_look, text_look._token_to_content(inline), width - bullet, frames)
        text = frames.frame(column, text, width - bullet, width - bullet)
        # The bullet is as tall as its row: under its symbol, blank lines in its style.
        under = Strip.blank(bullet, bullet_look.visual_style.rich_style)
        beside = draw(bullet_look, Content(symbol), bullet, frames)[:1]
        beside += frames.frame(bullet_look, [under], bullet, bullet) * (len(text) - 1)
        lines = frames.frame(row, [Strip.join(pair) for pair in zip(beside, text)], width, width)
        return frames.frame(looks.block(kind), lines, width, width)

    def render_line(self, y: int) -> Strip:
        return self._line(y)

    def _line(self, y: int) -> Strip:
        """Line `y` as painted."""
        if y < len(self._lines):
            return self._lines[y]
        return self._blank if self._blank is not None else Strip.blank(self.size.width)  # the lines kept

    def render_lines(self, crop: Region) -> list[Strip]:
        """Its lines through the app's line filters, not through the styles cache: with no
        edge, padding, tint or opacity of its own, the cache would only copy each line (its
        lines are framed when drawn). A write repaints the tail, and Textual asks it for all
        its lines on screen, ~0.3 ms a write through the cache."""
        if not self._plain():
            return super().render_lines(crop)
        background = self.background_colors[1]
        filters = self.get_line_filters()
        lines = [self._line(y) for y in crop.line_range]
        for line_filter in filters:
            lines = [line.apply_filter(line_filter, background) for line in lines]
        width = self.size.width
        if crop.column_span != (0, width):
            lines = [line.crop(*crop.column_span) for line in lines]
        return lines

    def _plain(self) -> bool:
        """Whether the styles cache would leave its lines as they are drawn (see `render_lines`)."""
        return (
            unadorned(self)
            and not any(self.styles.padding)
            and not self.mouse_hover  # (a link under the mouse is styled by the cache)
            and self.size.width == self._width
        )
