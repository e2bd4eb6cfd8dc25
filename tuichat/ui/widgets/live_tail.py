"""The end of a streaming reply, drawn in one widget: the block being written and the
complete blocks since the last seal, painted line by line as a Markdown of the same text
paints them.

A Markdown shows each block as a widget of its own, so every new block, and every line a
block grows past the lines kept for it, lays the whole screen out again (~20 ms on a
2-core machine, 350 times for a 12,000-character reply). The tail draws its blocks itself:
a token costs the lines it changed, and a layout comes only when the tail outgrows the
blank lines it keeps under its text, when the text above it is sealed into a Markdown
(`ReplyText`). Its blocks look as the Markdown's will because they are drawn with the
styles of hidden blocks of the same kinds (`Looks`): each block is rendered the way
Textual renders a widget (`StylesCache`), with that block's styles, so a seal changes no
cell on screen.

Lists whose items are a paragraph each are drawn too, bullet beside text, as Textual's
Markdown lays them out. Tables, quotes, rules and other lists show as their Markdown source
until they are complete; then the tail is sealed, and they render (their widgets are what
Textual has to draw them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from markdown_it.token import Token
from rich.cells import cell_len
from rich.style import Style as RichStyle
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Label, Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownBullet, MarkdownFence, MarkdownParagraph

from tuichat.ui.widgets.markdown_parser import line_start, parser
from tuichat.ui.widgets.settled import Settled
from tuichat.ui.widgets.stored_markdown import StoredMarkdown

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


def _framed(
    look: Widget, lines: Sequence[Strip], width: int, inner: int, colors: tuple[Color, Color] | None = None
) -> list[Strip]:
    """`lines` of content `inner` wide, inside `look`'s padding, background and border, at
    `width`: what Textual's styles cache paints for a widget of that look and size (`colors`:
    its `background_colors`, if known)."""
    styles = look.styles
    padding = styles.padding
    size = Size(width, len(lines) + padding.height)
    base, background = colors if colors is not None else look.background_colors
    blank = Strip.blank(inner)

    def content_line(y: int) -> Strip:
        return lines[y] if 0 <= y < len(lines) else blank

    app = look.app
    return StylesCache().render(
        styles, size, base, background, content_line, [], None, None,
        content_size=Size(inner, len(lines)), padding=padding, crop=size.region,
        opacity=look.opacity, ansi_theme=app.ansi_theme, native_ansi=app.native_ansi_color,
    )  # fmt: skip


class Frames:
    """Content lines framed in a look's padding and background (`_framed`), each line framed
    once while it is shown: a write changes a line or two of a block, and framing a line
    costs as much as drawing it. A line is known by its cells and styles, so the lines of a
    paragraph that a write did not rewrap are found again."""

    def __init__(self) -> None:
        self._kept: dict[tuple[object, ...], Strip] = {}
        self._used: dict[tuple[object, ...], Strip] = {}
        self._colors: dict[int, tuple[Color, Color]] = {}  # the looks' background colours, this draw

    def frame(self, look: Widget, lines: Sequence[Strip], width: int, inner: int) -> list[Strip]:
        padding = look.styles.padding
        rows = self._padding(look, width, inner)
        framed = rows[: padding.top]
        colors = self.colors_of(look)
        for line in lines:
            key = (id(look), width, inner, colors, *line)
            found = self._kept.get(key)
            if found is None:
                found = _framed(look, [line], width, inner, colors)[padding.top]
            self._used[key] = found
            framed.append(found)
        return framed + rows[padding.top :]

    def kept(self, key: tuple[object, ...]) -> list[Strip] | None:
        """Lines kept under `key` by `keep` while they are shown (used in this draw or the last)."""
        found = self._kept.get(key)
        if found is not None:
            self._used[key] = found
        return found  # type: ignore[return-value]

    def keep(self, key: tuple[object, ...], lines: list[Strip]) -> list[Strip]:
        self._used[key] = lines  # type: ignore[assignment]
        return lines

    def colors_of(self, look: Widget) -> tuple[Color, Color]:
        """A look's background colours, found once a draw (walking its ancestors: a class
        on one, such as the message cursor's, can change them without restyling the look)."""
        colors = self._colors.get(id(look))
        if colors is None:
            colors = self._colors[id(look)] = look.background_colors
        return colors

    def _padding(self, look: Widget, width: int, inner: int) -> list[Strip]:
        colors = self.colors_of(look)
        key = (id(look), width, inner, colors, "padding")
        rows = self._kept.get(key)
        if rows is None:
            rows = _framed(look, [], width, inner, colors)  # type: ignore[assignment]
        self._used[key] = rows  # type: ignore[assignment]
        return list(rows)  # type: ignore[call-overload]

    def text(self, look: Widget, content: Content, width: int) -> list[Strip]:
        """`content` wrapped at `width` and rendered as `Visual.to_strips` renders it for
        `look`, each line rendered once while shown: wrapping is cheap, and rendering a
        line's styles is what a paragraph's every write paid for all its lines."""
        styles = look.styles
        if look.text_selection is not None or styles.content_align != ("left", "top"):
            return Visual.to_strips(look, content, width, None, look.visual_style)
        style = look.visual_style
        rule = styles.get_rule
        lines = content._wrap_and_format(
            width,
            align=rule("text_align", "left"),  # type: ignore[arg-type]
            overflow=rule("text_overflow", "fold"),  # type: ignore[arg-type]
            no_wrap=rule("text_wrap", "wrap") == "nowrap",
            line_pad=rule("line_pad", 0),  # type: ignore[arg-type]
            tab_size=8,
            get_style=look._get_style,
        )
        links = look.auto_links and not look.is_container and not look.screen._selecting
        link_style = look.link_style if links else None
        strips: list[Strip] = []
        for line in lines:
            shown = line.content
            key = (id(look), style, link_style, shown.plain, tuple(shown.spans), line.x, line.y, line.width, line.align, line.line_end)
            strip = self._kept.get(key)
            if strip is None:
                strip = Strip(*line.to_strip(style))
                if link_style is not None:
                    strip = strip._apply_link_style(link_style)
            self._used[key] = strip
            strips.append(strip)
        return strips

    def drawn(self) -> None:
        """A draw is over: what it did not use goes."""
        self._kept, self._used, self._colors = self._used, {}, {}

    def forget(self) -> None:
        self._kept, self._used, self._colors = {}, {}, {}


def draw(look: Widget, content: Content, width: int, frames: Frames, *, clip: bool = False) -> list[Strip]:
    """A block of `content` drawn with `look`'s styles at `width` (`clip`: its lines are not
    wrapped but cut at `width`, as a fence scrolled to its start shows them)."""
    padding = look.styles.padding
    inner = max(1, width - padding.width)
    if clip or (look.styles.width is not None and look.styles.width.is_auto):
        natural = content.get_optimal_width(look.styles, inner) if not clip else max(
            (line.cell_length for line in content.split("\n")), default=0
        )
        inner = max(inner, natural) if clip else min(inner, natural)
    lines = frames.text(look, content, inner)
    drawn = frames.frame(look, lines, inner + padding.width, inner)
    return [strip.crop(0, width) for strip in drawn] if clip else drawn


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

    def notify_style_update(self) -> None:
        """A new theme: every block drawn anew, with the looks' new styles (applied by then)."""
        super().notify_style_update()
        if self._width:
            self.call_after_refresh(self._restyle)

    def _restyle(self) -> None:
        self._drawn, self._blank = [], None
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
        # Lines drawn stay while the width and the background under them do (the message
        # cursor's class on the reply changes it without restyling the tail).
        at = (width, self._frames.colors_of(looks))
        if self._blank is None or at != self._drawn_at:
            base, background = at[1]
            blank = Strip.blank(inner, RichStyle.from_color(bgcolor=(base + background).rich_color))
            self._blank = _framed(looks, [blank], width, inner, at[1])[0]
        self._width, self._drawn_at = width, at
        kept = {(block.source, block.kind, drawn_at): lines for block, drawn_at, lines in self._drawn}
        drawn: list[tuple[Block, object, list[Strip]]] = []
        lines: list[Strip] = []
        above = self.above
        for block in self.blocks:
            top, bottom = looks.margins("paragraph" if block.kind == "source" else block.kind)
            framed = kept.get((block.source, block.kind, at))
            if framed is None:
                framed = self._frames.frame(looks, self._draw_block(block, inner), width, inner)
            drawn.append((block, at, framed))
            lines += [self._blank] * (max(top, above) - above) + framed + [self._blank] * bottom
            above = bottom
        self._drawn = drawn
        self._lines = lines
        self._frames.drawn()

    def _draw_block(self, block: Block, width: int) -> list[Strip]:
        looks = self.looks
        if block.kind == "fence":
            fence = cast(MarkdownFence, looks.block("fence").parent)
            app = self.app
            code = block.token.content.rstrip()
            highlighted = fence.highlight(code, block.token.info, ansi=app.native_ansi_color, dark=app.current_theme.dark)
            return draw(looks.block("fence"), highlighted, width, self._frames, clip=True)
        if block.kind == "source":
            return draw(looks.block("paragraph"), Content(block.source.rstrip("\n")), width, self._frames)
        if block.items:
            return self._draw_list(block, width)
        look = cast(MarkdownBlock, looks.block(block.kind))
        assert block.inline is not None
        return draw(look, look._token_to_content(block.inline), width, self._frames)

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
        if y < len(self._lines):
            return self._lines[y]
        return self._blank if self._blank is not None else Strip.blank(self.size.width)  # the lines kept
