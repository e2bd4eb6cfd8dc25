"""ReplyView: a stored reply renders once; a streamed one through apply/finish ends up the same."""

from __future__ import annotations

import gc
import random
import runpy
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Collapsible, Markdown, Static

from tests.ui.helpers import Layouts, screen_lines, settled
from tuichat.examples.markdown import ANSWER, chunks
from tuichat.runtime.invocation.codec import chunk_line
from tuichat.runtime.invocation.trace import EventStep, RaisedStep, SseStep, Step
from tuichat.runtime.reply.builder import ReplyBuilder
from tuichat.runtime.reply.model import Reply
from tuichat.runtime.reply.present import citations
from tuichat.ui.widgets.drawn_segment import DrawnSegment
from tuichat.ui.widgets.markdown_parser import parser
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.reply_parts import SPINNER
from tuichat.ui.widgets.reply_text import ReplyText

SOURCES = [
    {
        "document": ["Pipes are Python functions."],
        "metadata": [{"source": "https://docs.openwebui.com/pipe"}],
        "source": {"name": "Open WebUI docs"},
    },
    {
        "document": ["Part one.", "Part two."],
        "metadata": [
            {"source": "guide.md", "name": "Events guide, part 1"},
            {"source": "guide.md", "name": "Events guide, part 2"},
        ],
        "source": {"name": "guide.md", "id": "guide.md"},
    },
]


class Host(App[None]):
    def __init__(self, view: ReplyView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield self.view


def text_of(view: ReplyView, part: str) -> str:
    widget = view.get_child_by_id(part, Static)
    return str(widget.render()) if widget.display else ""


def status(description: str, done: bool) -> EventStep:
    return EventStep({"type": "status", "data": {"description": description, "done": done}})


def sse(pieces: Iterable[str]) -> list[Step]:
    return [SseStep(chunk_line("m", piece)) for piece in pieces]


def streaming() -> tuple[ReplyView, ReplyBuilder]:
    """A streaming view and the builder whose updates it gets, as the chat screen sets them up."""
    return ReplyView(streaming=True), ReplyBuilder()


def feed(view: ReplyView, builder: ReplyBuilder, steps: Iterable[Step]) -> None:
    """What the app's worker does for each step."""
    for step in steps:
        view.apply(builder.feed(step))


async def wait_until(pilot: Pilot[None], predicate: Callable[[], bool]) -> None:
    for _ in range(200):
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition not met")


async def test_stored_reply_renders_every_part() -> None:
    reply = Reply(
        content="# Answer\n\nThe **text**.",
        reasoning="Let me think.",
        statuses=[{"description": "Searched 2 sites", "done": True}],
        sources=SOURCES,
        usage={"prompt_tokens": 3, "completion_tokens": 5, "prompt_tokens_details": {"cached": 0}},
        error="Upstream timed out",
        status="error",
    )
    view = ReplyView(reply, model_name="Echo")
    async with Host(view).run_test(size=(80, 24)):
        assert view.shown_text == reply.content
        thought = view.query_one("#thought", Collapsible)
        assert thought.collapsed and thought.title == "Thought"
        assert thought.query_one(Markdown).source == "Let me think."
        assert text_of(view, "status") == "Searched 2 sites"
        assert text_of(view, "sources") == "[1] https://docs.openwebui.com/pipe\n[2] Events guide, part 1"
        assert text_of(view, "usage") == "prompt_tokens 3 · completion_tokens 5"
        assert text_of(view, "error") == "Upstream timed out"
        assert not view.get_child_by_id("error").has_class("-stopped")


async def test_stored_reply_composes_only_what_it_has() -> None:
    view = ReplyView(Reply(content="Hi", statuses=[{"description": "x", "hidden": True}], status="done"))
    async with Host(view).run_test(size=(80, 24)):
        assert [child.id for child in view.children] == ["content"]


def test_citations_group_like_open_webui() -> None:
    assert citations(SOURCES) == [
        ("https://docs.openwebui.com/pipe", "https://docs.openwebui.com/pipe"),
        ("Events guide, part 1", ""),
    ]
    assert citations([{"document": ["a"], "source": {"name": "Doc", "url": "u"}}]) == [("Doc", "u")]
    assert citations([{"document": ["a"]}, {}]) == [("N/A", "")]


async def test_streamed_markdown_ends_equal_to_the_reply() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        feed(view, builder, sse(chunks(ANSWER)))
        assert view.shown_text == ""  # apply only buffers
        await wait_until(pilot, lambda: view.query_one("#thought").display)
        assert view.query_one("#thought", Collapsible).title == "Thinking…"
        finished = builder.finish()
        await view.finish(finished)
        assert view.shown_text == finished.reply.content  # exactly: what was shown is the start of it
        (code,) = [line for segment in view.query(DrawnSegment) for line in segment._lines if "def greet(" in line.text]
        styles = {segment.style.clear_meta_and_links() for segment in code if segment.text.strip() and segment.style}
        assert "def greet(name: str) -> str:" in code.text and len(styles) >= 3  # drawn as sealed, highlighted
        thought = view.query_one("#thought", Collapsible)
        assert thought.title == "Thought" and thought.collapsed
        assert "Markdown renders" in thought.query_one(Markdown).source


async def test_replace_rerenders_the_content() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        feed(view, builder, sse(["Draft ", "text"]))
        await wait_until(pilot, lambda: view.shown_text == "Draft text")
        feed(view, builder, [EventStep({"type": "replace", "data": {"content": "Final. "}})])
        feed(view, builder, [EventStep({"type": "message", "data": {"content": "More."}})])
        await wait_until(pilot, lambda: view.shown_text == "Final. More.")
        feed(view, builder, sse([" And the end."]))
        await view.finish(builder.finish())
        assert view.shown_text == view.reply.content == "Final. More. And the end."


async def test_spinner_only_while_a_status_is_not_done() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        status_line = view.get_child_by_id("status")
        feed(view, builder, [status("Searching", done=False)])
        await wait_until(pilot, lambda: status_line.has_class("-busy"))
        assert text_of(view, "status")[0] in SPINNER
        assert text_of(view, "status").endswith(" Searching")
        feed(view, builder, [status("Searched", done=True)])
        await wait_until(pilot, lambda: not status_line.has_class("-busy"))
        assert text_of(view, "status") == "Searched"
        feed(view, builder, [status("Writing", done=False)])
        await wait_until(pilot, lambda: status_line.has_class("-busy"))
        await view.finish(builder.finish())
        assert not status_line.has_class("-busy") and text_of(view, "status") == "Writing"


async def test_error_after_partial_text_keeps_the_text() -> None:
    view, builder = ReplyView(streaming=True), ReplyBuilder()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        for step in [*sse(["Half an ", "answer"]), RaisedStep("ValueError", "boom")]:
            view.apply(builder.feed(step))
        await wait_until(pilot, lambda: text_of(view, "error") == "boom")
        await view.finish(builder.finish())
        reply = view.reply
        assert reply.status == "error"
        assert view.shown_text == "Half an answer"
        assert text_of(view, "error") == "boom"


async def test_stopped_reply_shows_the_marker() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)):
        feed(view, builder, sse(["Some text"]))
        await view.finish(builder.finish("stopped"))
        assert view.shown_text == "Some text"
        assert text_of(view, "error") == "Stopped"
        assert view.get_child_by_id("error").has_class("-stopped")


async def test_fences_render_with_no_color_and_an_ansi_theme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    view = ReplyView(Reply(content="```python\nprint('hi')\n```", error="bad", status="error"))
    app = Host(view)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "ansi-dark"
        await pilot.pause()
        assert app.no_color
        assert "print" in app.export_screenshot() and "bad" in app.export_screenshot()


async def test_text_held_back_until_the_end_is_shown() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)):
        feed(view, builder, sse(["Hello <thi"]))  # might be a reasoning tag: held back
        await view.finish(builder.finish())
        assert view.shown_text == view.reply.content == "Hello <thi"


async def test_finish_after_the_view_was_removed() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        feed(view, builder, sse(["Some ", "text"]))
        await wait_until(pilot, lambda: view.shown_text == "Some text")
        feed(view, builder, sse([" more"]))
        await view.remove()
        await view.finish(builder.finish())  # the app's worker always finishes
        assert view.reply.content == "Some text more"


# -- a streamed reply renders as the stored one ------------------------------------------------

TRICKY = """Intro paragraph
Setext heading
---

```python
def f():
    return 1
```
Text right after a fence.
~~~
tilde fence with ``` inside
~~~

````markdown
```python
nested
```
````

- item one
- item two
continued lazily

1. first
2. second

> quote line
still quote

| a | b |
|---|---|
| 1 | 2 |
After the table: a row.

    indented code
    more

<div>an HTML block, which Markdown doesn't show</div>

Last paragraph
===

```js
an unclosed fence at the end
let x = 1;
"""

# Headings, fences, quotes and rules with no paragraph between: segments must end before
# blocks with a top margin, and mend the gap.
RUN = "".join(f"## Part {n}\n\n```python\nx = {n}\n```\n\n### Sub {n}\n\n> quote {n}\n\n---\n\n" for n in range(4))

SECTIONS = "".join(
    f"## Section {n}\n\nA paragraph with **bold** and `code()`, then a list:\n\n- one\n- two\n\n"
    f"```python\ndef step_{n}(items: list[str]) -> int:\n    return len(items) * {n}\n```\n\n"
    f"| Name | Count |\n|------|------:|\n| `a` | {n} |\n| b | {n + 1} |\n\n"
    for n in range(3)
)

DOCUMENTS = {"answer": ANSWER.split("</think>")[1].strip(), "tricky": TRICKY, "run": RUN, "sections": SECTIONS}


class Page(App[None]):
    """A reply alone on a screen tall enough to show all of it."""

    CSS = "Screen { overflow-y: hidden; }"

    def __init__(self, widget: ReplyView | ReplyText | Markdown, theme: str | None = None) -> None:
        super().__init__()
        self.widget = widget
        self.start_theme = theme

    def compose(self) -> ComposeResult:
        yield self.widget

    def on_mount(self) -> None:
        if self.start_theme:
            self.theme = self.start_theme


async def painted(widget: ReplyView | ReplyText | Markdown, write: Callable[[Pilot[None]], object] | None = None,
                  theme: str | None = None) -> list[str]:
    app = Page(widget, theme)
    async with app.run_test(size=(100, 160)) as pilot:
        if write is not None:
            await write(pilot)  # type: ignore[misc]
        # Until laid out and painted: two pauses were not always enough under load (the
        # last segment's blocks were mounted, not yet laid out).
        return await settled(pilot, lambda: screen_lines(app))


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize("seed", [0, 1])
async def test_streamed_text_renders_as_one_markdown(name: str, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the chunks and however often the tail is sealed, the column of segments paints
    the same lines as one Markdown of the whole text (fences, tables and margins included)."""
    text = DOCUMENTS[name]
    if seed == 0:  # a seal at nearly every new line
        monkeypatch.setattr(ReplyText, "RESERVE", 1)
        monkeypatch.setattr(ReplyText, "RESERVE_SHARE", 0.0)
    rng = random.Random(seed)
    column = ReplyText()

    async def write(pilot: Pilot[None]) -> None:
        start = 0
        while start < len(text):
            size = rng.choice([1, 3, 7, 20, 60, 200])
            await column.write(text[start : start + size])
            start += size
            if rng.random() < 0.3:
                await pilot.pause()
        await column.write("", final=True)

    stored = Markdown(text, parser_factory=parser)  # raw HTML shown as text, as a stored reply's
    stored.styles.layout = "stream"  # as ReplyView lays out a stored reply's text
    assert await painted(column, write) == await painted(stored)
    assert column.text == text


@pytest.mark.parametrize("theme", ["textual-dark", "ansi-dark"])
async def test_a_streamed_reply_renders_as_the_stored_one(theme: str) -> None:
    view, builder = streaming()

    async def stream(pilot: Pilot[None]) -> None:
        for piece in chunks(SECTIONS + TRICKY):
            view.apply(builder.feed(SseStep(chunk_line("m", piece))))
            if rng.random() < 0.1:  # writes of one token and of many
                await pilot.pause(rng.choice([0, ReplyView.MIN_INTERVAL, 0.1]))
        await view.finish(builder.finish())

    rng = random.Random(3)
    streamed = await painted(view, stream, theme)
    assert streamed == await painted(ReplyView(view.reply), theme=theme)


async def test_a_layout_after_the_end_keeps_no_blank_lines_under_the_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under load the refresh after the last write can come once the reply has ended: it put
    the blank lines kept under a streaming text back under the finished one, for good."""
    view, builder = streaming()
    held: list[tuple[Callable[..., object], tuple[object, ...]]] = []

    async def stream(pilot: Pilot[None]) -> None:
        monkeypatch.setattr(view, "call_after_refresh", lambda callback, *args: held.append((callback, args)) or True)
        feed(view, builder, [SseStep(chunk_line("m", piece)) for piece in chunks(SECTIONS)])
        # A write is on screen, any callback it asked for after its refresh held.
        await wait_until(pilot, lambda: bool(view.query_one(ReplyText).shown.strip()))
        await view.finish(builder.finish())
        for callback, args in held:  # that refresh comes now
            callback(*args)
        heights.append(await settled(pilot, lambda: view.size.height))

    async def measure(pilot: Pilot[None]) -> None:
        heights.append(await settled(pilot, lambda: stored.size.height))

    heights: list[int] = []
    streamed = await painted(view, stream)
    stored = ReplyView(view.reply)
    assert streamed == await painted(stored, measure)
    assert heights[0] == heights[1]  # no blank lines kept under it


def bench_reply(sections: int) -> str:
    """The reply `bench/tui_stream.py` streams (headings, paragraphs, lists, fences, tables)."""
    bench = runpy.run_path(str(Path(__file__).parents[2] / "bench" / "tui_stream.py"))
    return bench["make_reply"](sections)  # type: ignore[no-any-return]


async def test_the_bench_reply_streamed_shows_what_it_renders_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench's reply written two tokens a write, each write painted: while it streams,
    every block above the one being written looks as it will; once finished, the screen is
    the stored reply's."""
    text = bench_reply(2)
    monkeypatch.setattr(ReplyView, "MIN_INTERVAL", 0.0)
    view, builder = streaming()
    before_finish: list[str] = []

    async def stream(pilot: Pilot[None]) -> None:
        steps = sse(text[i : i + 4] for i in range(0, len(text), 4))
        for start in range(0, len(steps), 2):
            feed(view, builder, steps[start : start + 2])
            await pilot.pause()
        await wait_until(pilot, lambda: view.shown_text == text.rstrip("\n"))
        await pilot.pause()
        before_finish.extend(screen_lines(pilot.app))
        await view.finish(builder.finish())

    streamed = await painted(view, stream)
    stored = await painted(ReplyView(view.reply))
    assert streamed == stored
    last_table = max(n for n, line in enumerate(before_finish) if "| Name | Count | Note |" in line)
    assert last_table > 30 and before_finish[:last_table] == stored[:last_table]


# -- folding ------------------------------------------------------------------------------------


class Log(App[None]):
    """A streaming reply in a bottom-anchored scroll, like the conversation."""

    CSS = "VerticalScroll { layout: stream; }"

    def __init__(self, view: ReplyView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        yield VerticalScroll(self.view)

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


async def test_what_the_stream_scrolled_past_is_folded_in_place() -> None:
    view, builder = streaming()
    app = Log(view)
    async with app.run_test(size=(80, 20)) as pilot:
        log, column = app.query_one(VerticalScroll), view.query_one(ReplyText)
        pieces = 0
        for piece in chunks(SECTIONS * 2):
            feed(view, builder, sse([piece]))
            pieces += 1
            if pieces % 20 == 0:  # a write every 20 tokens or so
                await pilot.pause(0.06)
        await pilot.pause(0.1)  # the last tokens are written
        await wait_until(pilot, lambda: column.folding.folded > 0)
        folded = await settled(pilot, lambda: (log.virtual_size, log.scroll_y, screen_lines(app)))
        shown = len(column.segments)
        column.folding.unfold()
        unfolded = await settled(pilot, lambda: (log.virtual_size, log.scroll_y, screen_lines(app)))
        assert unfolded == folded  # nothing moved
        assert len(column.segments) == shown  # folded segments are hidden, not removed

        for piece in chunks(SECTIONS):  # a fold comes with a later write's layout
            feed(view, builder, sse([piece]))
            await pilot.pause(0.01)
        await wait_until(pilot, lambda: column.folding.folded > 0)
        log.scroll_up(animate=False)  # the user scrolls up: everything is shown at once
        await pilot.pause()
        assert column.folding.folded == 0

        await view.finish(builder.finish())
        assert view.shown_text == view.reply.content


async def test_what_the_stream_folded_stays_folded_after_it_until_the_user_scrolls_up() -> None:
    # Shown at the finish, the folded widgets would be walked by every later layout (the
    # next reply's too): they come back when the user scrolls up to them.
    view, builder = streaming()
    app = Log(view)
    async with app.run_test(size=(80, 20)) as pilot:
        log, column = app.query_one(VerticalScroll), view.query_one(ReplyText)
        pieces = 0
        for piece in chunks(SECTIONS * 3):
            feed(view, builder, sse([piece]))
            pieces += 1
            if pieces % 20 == 0:  # a write every 20 tokens or so
                await pilot.pause(0.06)
        await wait_until(pilot, lambda: column.folding.folded > 0)
        await view.finish(builder.finish())
        finished = await settled(pilot, lambda: (log.virtual_size, log.scroll_y, screen_lines(app)))
        assert column.folding.folded > 0
        assert view.shown_text == view.reply.content  # hidden, not removed

        log.scroll_up(animate=False)
        await pilot.pause()
        assert column.folding.folded == 0
        assert column.segments and all(segment.display for segment in column.segments)
        log.scroll_end(animate=False)
        assert await settled(pilot, lambda: (log.virtual_size, log.scroll_y, screen_lines(app))) == finished


async def test_streaming_holds_the_garbage_collector_and_gives_it_back() -> None:
    before = gc.get_threshold()
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)):
        assert gc.get_threshold()[2] > before[2]  # no full collections while streaming
        feed(view, builder, sse(["Some text"]))
        await view.finish(builder.finish())
        assert gc.get_threshold() == before


async def test_a_huge_reply_shows_its_start_and_says_how_to_read_it_all(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuichat.ui.widgets import display_cap

    monkeypatch.setattr(display_cap, "DISPLAY_LIMIT", 2000)
    words = [f"word{i} " for i in range(1000)]  # 7,890 characters
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        feed(view, builder, sse(words[:500]))
        await wait_until(pilot, lambda: "characters so far: only the first 2,000 are shown" in text_of(view, "cut"))
        feed(view, builder, sse(words[500:]))
        await view.finish(builder.finish())
        whole = "".join(words).strip()
        assert view.reply.content == whole  # kept whole
        assert view.shown_text == whole[:2000]
        assert text_of(view, "cut").startswith(f"This reply has {len(whole):,} characters: only the first 2,000 are shown")
        assert "press F9 to export the chat" in text_of(view, "cut")
    stored = ReplyView(Reply(content=whole, status="done"))
    async with Host(stored).run_test(size=(80, 24)):
        assert stored.shown_text == whole[:2000]
        assert text_of(stored, "cut").startswith(f"This reply has {len(whole):,} characters")


async def test_folding_what_the_stream_scrolled_past_costs_no_layout_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fold is done in the layout the stream's next seal or top-up costs anyway: streamed
    the same way, the reply takes as many layouts with its folds as without."""
    monkeypatch.setattr(ReplyView, "MIN_INTERVAL", 0.0)

    async def layouts_streaming(fold_least: float) -> tuple[int, int]:
        monkeypatch.setattr(ReplyView, "FOLD_LEAST", fold_least)
        view, builder = streaming()
        app = Log(view)
        async with app.run_test(size=(80, 20)) as pilot:
            column = view.query_one(ReplyText)
            await pilot.pause()
            layouts = Layouts(monkeypatch)
            pieces = list(chunks(SECTIONS * 3))
            for start in range(0, len(pieces), 12):  # a write of 12 pieces at a time, each laid out
                feed(view, builder, sse(pieces[start : start + 12]))
                await settled(pilot, lambda: (column.text, layouts.count))
            return layouts.count, column.folding.folded

    fold_least = ReplyView.FOLD_LEAST
    unfolded = await layouts_streaming(100.0)  # runs of 100 screens: never folds
    folded = await layouts_streaming(fold_least)
    assert unfolded[1] == 0 and folded[1] > 0
    assert folded[0] <= unfolded[0]
