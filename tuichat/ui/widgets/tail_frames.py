"""Lines drawn as a widget of a given look paints them: the live tail's drawing (`LiveTail`).

A look is a hidden widget whose styles a block is drawn with. Its content is rendered as
`Visual.to_strips` renders it, then framed in its padding and background as Textual's
`StylesCache` frames a widget's lines, so a drawn block and the widget it becomes when
sealed paint the same cells. Lines are rendered and framed once while they are shown
(`Frames`): a write changes a line or two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style as RichStyle
from textual._segment_tools import line_pad
from textual._styles_cache import StylesCache
from textual.color import Color
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual
from textual.widget import Widget


def unadorned(widget: Widget) -> bool:
    """Whether the styles cache adds nothing to `widget`'s lines but its padding and its
    background: no border, outline, hatch, tint or transparency."""
    styles = widget.styles
    return not (
        any(edge for edge, _ in styles.border)
        or any(edge for edge, _ in styles.outline)
        or (styles.has_rule("hatch") and styles.hatch != "none")
        or styles.tint.a
        or styles.text_opacity != 1.0
        or widget.opacity != 1.0
    )


def framed(
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
    """Content lines rendered (`text`) and framed in a look's padding and background
    (`frame`), each once while it is shown: a write changes a line or two of a block. A
    rendered line is known by its cells and styles, so the lines of a paragraph that a write
    did not rewrap are found again; a framed line by the line it frames (the same object)."""

    def __init__(self) -> None:
        self._kept: dict[tuple[object, ...], Any] = {}  # lines, or a framed line with its line
        self._used: dict[tuple[object, ...], Any] = {}
        self._colors: dict[int, tuple[Color, Color]] = {}  # the looks' background colours (`begin`)
        self._sides: dict[int, tuple[int, int, RichStyle] | None] = {}  # how their lines are framed

    def frame(self, look: Widget, lines: Sequence[Strip], width: int, inner: int) -> list[Strip]:
        padding = look.styles.padding
        rows = self._padding(look, width, inner)
        out = rows[: padding.top]
        colors = self.colors_of(look)
        sides = self._sides_of(look)
        for line in lines:
            # A line is known by identity: the lines a draw keeps are the same objects (a
            # key of their cells cost a block's every line on every write).
            key = (id(look), width, inner, colors, id(line))
            kept = self._kept.get(key)
            if kept is None:
                found = (
                    framed(look, [line], width, inner, colors)[padding.top]
                    if sides is None
                    else Strip(line_pad(line.adjust_cell_length(inner, sides[2]), *sides), width)
                )
                kept = (line, found)  # (the line held: its id is not reused while kept)
            self._used[key] = kept
            out.append(kept[1])
        return out + rows[padding.top :]

    def kept(self, key: tuple[object, ...]) -> list[Strip] | None:
        """Lines kept under `key` by `keep` while they are shown (used in this draw or the last)."""
        found = self._kept.get(key)
        if found is not None:
            self._used[key] = found
        return found

    def keep(self, key: tuple[object, ...], lines: list[Strip]) -> list[Strip]:
        self._used[key] = lines
        return lines

    def begin(self, looks: Widget) -> tuple[Color, Color]:
        """A draw starts: the background colours of `looks` (the widget holding every look),
        found anew, walking its ancestors: a class set on one without a restyle (`set_mark`)
        can change them. While they are the same, so are those of the
        looks inside it (found once: they change only with a new theme, which `forget`s)."""
        colors = looks.background_colors
        if colors != self._colors.get(id(looks)):
            self._colors, self._sides = {id(looks): colors}, {}
        return colors

    def colors_of(self, look: Widget) -> tuple[Color, Color]:
        """A look's background colours (see `begin`)."""
        colors = self._colors.get(id(look))
        if colors is None:
            colors = self._colors[id(look)] = look.background_colors
        return colors

    def _sides_of(self, look: Widget) -> tuple[int, int, RichStyle] | None:
        """How a content line of `look` is framed, found once (see `begin`), when that is its
        left and right padding in its background alone (a reply's Markdown blocks): what the
        styles cache does to such a line, without its set-up for every line (most of its
        cost). None for a look with a border, outline, hatch, tint or some transparency."""
        key = id(look)
        if key in self._sides:
            return self._sides[key]
        base, background = self.colors_of(look)
        padding = look.styles.padding
        sides = (padding.left, padding.right, Style(background=base + background).rich_style) if unadorned(look) else None
        self._sides[key] = sides
        return sides

    def _padding(self, look: Widget, width: int, inner: int) -> list[Strip]:
        colors = self.colors_of(look)
        key = (id(look), width, inner, colors, "padding")
        rows = self._kept.get(key)
        if rows is None:
            rows = framed(look, [], width, inner, colors)
        self._used[key] = rows
        return list(rows)

    def text(self, look: Widget, content: Content, width: int, first_line: int = 0) -> list[Strip]:
        """`content` wrapped at `width` and rendered as `Visual.to_strips` renders it for
        `look`, each line rendered once while shown: wrapping is cheap, and rendering a
        line's styles is what a paragraph's every write paid for all its lines.
        `first_line`: the line `content` starts at in the text it ends (a cell's offset in
        that text, for selecting, counts the lines above)."""
        styles = look.styles
        if look.text_selection is not None or styles.content_align != ("left", "top"):
            shifted = Content("\n" * first_line) + content if first_line else content
            return Visual.to_strips(look, shifted, width, None, look.visual_style)[first_line:]
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
        for line in lines if first_line else ():
            line.y += first_line
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
        self._kept, self._used = self._used, {}

    def forget(self) -> None:
        self._kept, self._used, self._colors, self._sides = {}, {}, {}, {}


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
    return framed_at(look, lines, width, inner, frames) if clip else frames.frame(look, lines, inner + padding.width, inner)


def framed_at(look: Widget, lines: Sequence[Strip], width: int, inner: int, frames: Frames) -> list[Strip]:
    """Lines `inner` wide framed in `look`'s padding and cut at `width` (a fence's code, which
    scrolls rather than wraps, seen at its start)."""
    drawn = frames.frame(look, lines, inner + look.styles.padding.width, inner)
    return [strip.crop(0, width) for strip in drawn]
