"""DrawnSegment: a streamed reply's blocks sealed as the tail drew them paint, at any width
and in any theme, what Textual's Markdown of the same text paints; a selection over them
copies their text, and a link in them opens."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.ui.test_live_tail import Column, as_markdown, paint, row_text, write_in_two
from tuichat.ui.widgets.drawn_segment import DrawnSegment, runs
from tuichat.ui.widgets.live_tail import Looks
from tuichat.ui.widgets.reply_text import ReplyText
from tuichat.ui.widgets.settled import KeptLines
from tuichat.ui.widgets.stored_markdown import StoredMarkdown

# Drawn blocks, a table (only a Markdown draws it), then drawn blocks again.
MIXED = """# Results

The first run went **well**, see [the log](https://example.org/log) for the rest of it,
long enough to wrap at sixty columns.

| Name | Count |
|------|------:|
| a    | 1     |
| b    | 22    |

- one
- two, long enough to wrap at sixty columns, and more words after

```python
print("done")  # a comment running past the right edge of a sixty-column screen, cut
```

The end.
"""


def test_runs_cut_the_text_where_the_tail_stops_drawing() -> None:
    found = runs(MIXED)
    assert [drawn for drawn, _ in found] == [True, False, True]
    assert "".join(text for _, text in found) == MIXED
    assert found[1][1].startswith("| Name |") and found[2][1].startswith("- one")
    assert runs("") == [(False, "")] and runs("> a quote\n") == [(False, "> a quote\n")]


async def streamed(pilot: Pilot[None], column: ReplyText, text: str) -> list[str]:
    """`text` streamed into `column` to its end: the screen's rows then."""
    await write_in_two(pilot, column, text, 30)
    await pilot.pause()
    await column.tidy()  # as the reply view does once a write is on screen: the table is sealed
    await column.write("", final=True)
    return [row_text(line) for line in await paint(pilot)]


@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark"])
async def test_sealed_blocks_paint_as_markdown_does_after_a_new_width_and_theme(theme: str) -> None:
    app = Column(theme)
    async with app.run_test(size=(80, 50)) as pilot:
        column = app.column
        await streamed(pilot, column, MIXED)
        kinds = [type(segment).__name__ for segment in column.segments]
        assert kinds[:2] == ["DrawnSegment", "StoredMarkdown"] and set(kinds[2:]) == {"DrawnSegment"}
        assert column.tail is None
        sealed = await paint(pilot)
        await pilot.resize_terminal(60, 50)
        narrow = await paint(pilot)
        app.theme = "textual-light"
        light = await paint(pilot)
        markdown_light = await as_markdown(pilot, column, MIXED)
        app.theme = theme
        markdown_narrow = await as_markdown(pilot, column, MIXED)
        await pilot.resize_terminal(80, 50)
        markdown = await as_markdown(pilot, column, MIXED)
    assert sum(1 for line in narrow if row_text(line).strip()) > sum(1 for line in sealed if row_text(line).strip())
    assert sealed == markdown
    assert narrow == markdown_narrow
    assert light == markdown_light


async def test_a_drawn_segment_keeps_its_lines_until_it_is_refreshed() -> None:
    app = Column("textual-dark")
    async with app.run_test(size=(80, 50)) as pilot:
        column = app.column
        await streamed(pilot, column, MIXED)
        segment = column.segments[0]
        assert isinstance(segment, DrawnSegment) and isinstance(segment, KeptLines)
        crop = segment.size.region
        lines = segment.render_lines(crop)
        assert segment.render_lines(crop) is lines
        segment.refresh()
        assert segment.render_lines(crop) is not lines


async def test_a_selection_over_sealed_blocks_is_highlighted_and_copies_their_text() -> None:
    app = Column("textual-dark")
    async with app.run_test(size=(80, 50)) as pilot:
        column = app.column
        rows = await streamed(pilot, column, MIXED)
        first = next(y for y, row in enumerate(rows) if "The first run" in row)
        wrapped = first + 1  # (the paragraph wraps at 80 columns)
        start = (rows[first].index("first"), first)
        end = (rows[wrapped].index("columns") + len("columns"), wrapped)
        await pilot.mouse_down(offset=start)
        await pilot.hover(offset=end)
        await pilot.mouse_up(offset=end)
        selected = app.screen.get_selected_text()
        painted = await paint(pilot)
        selection_style = app.screen.get_component_rich_style("screen--selection")
    assert selected is not None
    # Its text as it reads on screen, less the reply's padding and the blank cells after it
    # (the cell under the mouse, ".", is selected too, as in Textual's widgets).
    assert selected == "first run went well, see the log for the rest of it, long enough to wrap\nat sixty columns."
    highlighted = "".join(text for text, style in painted[first] if style.bgcolor == selection_style.bgcolor)
    assert highlighted.startswith("first run went") and "The" not in highlighted
    # ... and still readable: the text keeps its colour over the selection's background.
    words = [style for text, style in painted[first] if style.bgcolor == selection_style.bgcolor and text.strip()]
    assert words and all(style.color is not None and style.color != style.bgcolor for style in words)


async def test_a_link_in_sealed_blocks_opens_as_in_a_markdown(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Column("textual-dark")
    opened: list[str] = []
    monkeypatch.setattr(app, "open_url", lambda url, **_: opened.append(url))
    async with app.run_test(size=(80, 50)) as pilot:
        column = app.column
        rows = await streamed(pilot, column, MIXED)
        y = next(y for y, row in enumerate(rows) if "the log" in row)
        await pilot.click(offset=(rows[y].index("the log") + 2, y))
        await pilot.pause()
    assert opened == ["https://example.org/log"]


async def test_a_reply_that_never_outgrew_its_tail_ends_as_markdown_without_looks() -> None:
    """Drawn segments keep the hidden looks they draw with (19 widgets): a reply with none
    sealed before its end (most replies: short ones) ends as a Markdown, and its looks go."""
    app = Column("textual-dark")
    async with app.run_test(size=(80, 50)) as pilot:
        column = app.column
        await write_in_two(pilot, column, "A short reply, in **one** paragraph.\n\n- and a list\n", 10)
        await pilot.pause()
        await column.write("", final=True)
        assert [type(segment) for segment in column.segments] == [StoredMarkdown] and not column.query(Looks)
        await streamed(pilot, column := app.column, MIXED)  # (written anew: a table sealed first)
        assert any(isinstance(segment, DrawnSegment) for segment in column.segments) and column.query(Looks)
