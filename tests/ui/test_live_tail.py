"""LiveTail: the end of a streaming reply, drawn in one widget, looks as its Markdown will,
costs a repaint per token, and lays the screen out only when it must."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from tests.ui.helpers import Layouts, settled
from tuichat.ui.widgets.drawn_segment import DrawnSegment
from tuichat.ui.widgets.reply_text import ReplyText
from tuichat.ui.widgets.settled import all_mounted
from tuichat.ui.widgets.stored_markdown import StoredMarkdown

# Every kind of block the tail draws itself, inline styles, a link, a fence wider than the
# screen, a fence with no language, an indented code block, and lists of a paragraph an item
# (numbered past 9, wrapping); no table, quote or nested list (they render once complete,
# which seals the tail).
DRAWN = """# A first heading, long enough to wrap around the line at eighty columns, and more

Some **bold**, *em*, ~~struck~~ and `code()` text with a [link](https://example.org) and an
image ![alt](x.png), long enough to wrap, hard  
break and soft
break.

## Second

### Third, with `code`

```python
def step(items: list[str]) -> int:
    return sum(len(item) for item in items)  # a comment running past the right edge of an eighty-column screen
```

#### Fourth

```
no language
```

##### Fifth

    indented code

###### Sixth

- one **bold** item
- a second item, long enough to wrap around the line at eighty columns, with `code` too

8. eight
9. nine
10. ten, long enough to wrap around the line at eighty columns, as the numbers grow wider

The end.
"""


class Column(App[None]):
    CSS = "Screen { overflow-y: hidden; }"

    def __init__(self, theme: str) -> None:
        super().__init__()
        self.start_theme = theme
        self.column = ReplyText()

    def compose(self) -> ComposeResult:
        yield self.column

    def on_mount(self) -> None:
        self.theme = self.start_theme


def painted_cells(app: App[Any]) -> list[list[tuple[str, object]]]:
    """What the compositor paints, cell runs with their styles, line by line."""
    return [[(segment.text, segment.style) for segment in strip.simplify()] for strip in app.screen._compositor.render_strips()]


async def paint(pilot: Pilot[None]) -> list[list[tuple[str, object]]]:
    return await settled(pilot, lambda: painted_cells(pilot.app))


async def write_in_two(pilot: Pilot[None], column: ReplyText, text: str, first: int) -> None:
    """`text` written in two parts, `first` characters then the rest: the tail's first layout
    gives it its width."""
    await pilot.pause()
    await column.write(text[:first])
    await pilot.pause()
    await column.write(text[first:])


async def as_markdown(pilot: Pilot[None], column: ReplyText, text: str) -> list[list[tuple[str, object]]]:
    """What Textual's own Markdown of `text` paints in the column, in place of what it holds."""
    await column.remove_children()
    markdown = StoredMarkdown(text)
    await column.mount(markdown)
    await all_mounted(markdown)
    return await paint(pilot)


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "ansi-dark"])
async def test_the_tail_paints_its_blocks_as_their_markdown_does(theme: str) -> None:
    """Every cell, colour and style the same while the text is in the tail and once it is
    sealed into a Markdown: a seal moves or recolours nothing."""
    app = Column(theme)
    async with app.run_test(size=(80, 60)) as pilot:
        column = app.column
        await write_in_two(pilot, column, DRAWN, 40)
        tail = column.tail
        assert tail is not None and len(tail.blocks) == 13 and not column.segments  # all in the tail
        streaming = await paint(pilot)
        crop = Region(3, 0, tail.size.width - 3, tail.size.height)  # its lines, as Textual's styles cache renders them
        assert [list(line) for line in tail.render_lines(crop)] == [list(line) for line in Widget.render_lines(tail, crop)]
        await column.write("", final=True)
        assert column.tail is None and [type(s) for s in column.segments] == [StoredMarkdown]  # it never outgrew its tail
        sealed = await paint(pilot)
        markdown = await as_markdown(pilot, column, DRAWN)
    text_lines = sum(1 for line in sealed if "".join(text for text, _ in line).strip())
    assert text_lines > 12
    assert streaming == sealed == markdown


async def test_the_tail_renders_its_lines_through_the_apps_filters(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without colour (NO_COLOR: a line filter), its lines are what Textual's styles cache
    makes of them: filtered, cut to the crop."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = Column("textual-dark")
    async with app.run_test(size=(80, 60)) as pilot:
        column = app.column
        await write_in_two(pilot, column, DRAWN, 40)
        await paint(pilot)
        tail = column.tail
        assert tail is not None and app.get_line_filters()
        crop = Region(3, 2, tail.size.width - 5, tail.size.height - 2)
        assert [list(line) for line in tail.render_lines(crop)] == [list(line) for line in Widget.render_lines(tail, crop)]


OPEN_FENCE = """Some code:

```python
def f(x: int) -> int:
    return x  # a comment running past the right edge of an eighty-column screen, cut there

print(f(1))"""


def row_text(line: list[tuple[str, object]]) -> str:
    return "".join(text for text, _ in line)


@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark"])
async def test_an_open_fence_highlights_each_line_once_it_ends(theme: str) -> None:
    """While a fence is open, its lines above the one being written paint as its Markdown
    paints them; the line being written shows its text, unhighlighted until it ends."""
    app = Column(theme)
    async with app.run_test(size=(80, 30)) as pilot:
        column = app.column
        await write_in_two(pilot, column, OPEN_FENCE, 12)
        writing = await paint(pilot)
        await column.write("\nprint(2)")
        next_line = await paint(pilot)
        await column.write("\n```\n", final=True)
        sealed = await paint(pilot)
        assert sealed == await as_markdown(pilot, column, column.text)
    row = next(y for y, line in enumerate(sealed) if "print(f(1))" in row_text(line))
    assert "return x" in row_text(sealed[row - 2]) and not row_text(sealed[row - 1]).strip()
    assert writing[:row] == sealed[:row]  # the lines above the last, highlighted
    assert row_text(writing[row]) == row_text(sealed[row])  # the last: its text ...
    assert writing[row] != sealed[row]  # ... not highlighted yet
    assert next_line[: row + 1] == sealed[: row + 1]  # once it ended, it is
    assert row_text(next_line[row + 1]) == row_text(sealed[row + 1])


async def test_an_open_fences_last_line_stays_put_under_blank_lines() -> None:
    """Two blank lines before the line being written (as between Python functions): it is
    drawn where it will be once the fence is sealed, not a line lower."""
    app = Column("textual-dark")
    async with app.run_test(size=(80, 30)) as pilot:
        column = app.column
        await write_in_two(pilot, column, "Some code:\n\n```python\ndef f():\n    return 1\n\n\nprint(f", 12)
        writing = [row_text(line) for line in await paint(pilot)]
        await column.write("())\n```\n", final=True)
        sealed = [row_text(line) for line in await paint(pilot)]
    row = next(y for y, line in enumerate(sealed) if "print(f())" in line)
    assert "print(f" in writing[row] and not writing[row - 1].strip() and "return 1" in writing[row - 3]
    assert [line.rstrip() for line in writing[:row]] == [line.rstrip() for line in sealed[:row]]


async def test_a_new_theme_redraws_the_tail() -> None:
    app = Column("textual-dark")
    async with app.run_test(size=(80, 60)) as pilot:
        column = app.column
        await pilot.pause()
        await column.write(DRAWN)
        await paint(pilot)
        app.theme = "textual-light"
        streaming = await paint(pilot)
        await column.write("", final=True)
        assert streaming == await paint(pilot) == await as_markdown(pilot, column, DRAWN)


class Marked(Column):
    """A class on the column, as the message cursor puts one on a reply, sets a background."""

    CSS = Column.CSS + " ReplyText.-marked { background: $accent 25%; }"


async def test_a_background_from_a_class_above_recolours_the_tail() -> None:
    """A class on an ancestor restyles it, not the tail: the tail still paints every cell
    with the background under it (the message cursor moved onto a streaming reply)."""
    app = Marked("textual-dark")
    async with app.run_test(size=(80, 60)) as pilot:
        column = app.column
        await pilot.pause()
        await column.write(DRAWN)
        plain = await paint(pilot)
        column.add_class("-marked")
        streaming = await paint(pilot)
        await column.write("", final=True)
        sealed = await paint(pilot)
        height = column.region.height  # (the blank lines kept under the tail are gone)
        markdown = await as_markdown(pilot, column, DRAWN)
    assert streaming[:height] != plain[:height]
    assert streaming[:height] == sealed[:height] == markdown[:height]


async def test_a_token_is_a_repaint_until_the_blank_lines_kept_run_out(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Column("textual-dark")
    async with app.run_test(size=(80, 40)) as pilot:
        column = app.column
        await pilot.pause()
        await column.write("## A heading\n\nThe first words")
        await pilot.pause()
        await column.write(" and more")  # the tail outgrows its first height: blank lines are kept
        await paint(pilot)
        tail = column.tail
        assert tail is not None
        kept = tail.reserved - tail.lines_needed
        assert kept >= ReplyText.RESERVE
        layouts = Layouts(monkeypatch)
        words = 0
        while tail.lines_needed < tail.reserved:  # a paragraph, then a fence, grown word by word
            await column.write(" word" if words < 60 else ("\n\n```py\nx = 1\n" if words == 60 else "\nx += 1"))
            words += 1
            await pilot.pause()
        assert words > 60 and layouts.count == 0  # lines written in place: repaints only
        assert "x += 1" in "\n".join("".join(text for text, _ in line) for line in painted_cells(app))
        await column.write("\nx += 1")  # one line more than kept: one layout, with room again
        await paint(pilot)
        assert layouts.count == 1
        assert tail.reserved - tail.lines_needed >= ReplyText.RESERVE


async def test_a_table_renders_once_complete_and_a_list_as_it_streams() -> None:
    app = Column("textual-dark")
    async with app.run_test(size=(80, 40)) as pilot:
        column = app.column

        async def write(text: str) -> str:
            await column.write(text)
            await pilot.pause()
            await column.tidy()  # as the reply view does once a write is on screen
            return "\n".join("".join(text for text, _ in line) for line in await paint(pilot))

        await pilot.pause()
        screen = await write("Intro.\n\n| Name | Count |\n|---|--:|\n| a | 1 |\n")
        assert "|---|" in screen  # shown as written while it may still grow
        screen = await write("\n- one\n- two")
        assert "|---|" not in screen and "Name" in screen  # the table is complete: rendered
        assert "• one" in screen and "• two" in screen and "- one" not in screen  # drawn as it comes
        assert [type(s) for s in column.segments] == [DrawnSegment, StoredMarkdown]  # the table sealed; the list in the tail
        screen = await write("\n  - nested")
        assert "- nested" in screen  # a nested list: its source until it is complete
        screen = await write("\n\nAfter.")
        assert "- nested" not in screen and "• one" in screen
        assert column.text == "Intro.\n\n| Name | Count |\n|---|--:|\n| a | 1 |\n\n- one\n- two\n  - nested\n\nAfter."


async def test_a_sealed_segment_keeps_its_lines_and_a_new_theme_repaints_them() -> None:
    """The blocks sealed above the tail (a table's cells, a list's rows: widgets asked for
    their lines at every write) keep them between refreshes; a new theme renders them anew,
    as Textual renders them."""
    app = Column("textual-dark")
    async with app.run_test(size=(80, 40)) as pilot:
        column = app.column
        await write_in_two(pilot, column, "Intro.\n\n| Name | Count |\n|---|--:|\n| `a` | 1 |\n\nAfter.", 8)
        await pilot.pause()
        await column.tidy()  # as the reply view does once a write is on screen: the table is sealed
        await paint(pilot)
        (segment,) = [s for s in column.segments if isinstance(s, StoredMarkdown)]
        widgets = [widget for widget in segment.walk_children() if widget.size.area]
        assert len(widgets) > 5 and all("render_lines" in vars(widget) for widget in widgets)

        def lines_of(widget: Widget) -> tuple[Region, list[Strip]]:
            crop = Region(0, 0, widget.size.width, widget.size.height)
            return crop, widget.render_lines(crop)

        before = {widget: lines_of(widget) for widget in widgets}
        assert all(widget.render_lines(crop) is lines for widget, (crop, lines) in before.items())
        app.theme = "textual-light"
        await paint(pilot)
        changed = 0
        for widget, (crop, lines) in before.items():
            after = widget.render_lines(crop)
            assert [list(line) for line in after] == [list(line) for line in Widget.render_lines(widget, crop)]
            changed += [list(line) for line in after] != [list(line) for line in lines]
        assert changed == len(widgets)  # each one repainted in the new theme
