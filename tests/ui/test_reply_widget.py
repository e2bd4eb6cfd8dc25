"""ReplyView: a stored reply renders once; a streamed one through apply/finish ends up the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Collapsible, Markdown, Static
from textual.widgets.markdown import MarkdownFence

from tuichat.examples.markdown import ANSWER, chunks
from tuichat.runtime.codec import chunk_line
from tuichat.runtime.reply import Reply, ReplyBuilder
from tuichat.runtime.trace import EventStep, RaisedStep, SseStep, Step
from tuichat.ui.widgets.reply import SPINNER, ReplyView, citations

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
    """A streaming view following its builder, as the chat screen sets it up."""
    view, builder = ReplyView(streaming=True), ReplyBuilder()
    view.follow(builder)
    return view, builder


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
        assert view.body.source == reply.content
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
        assert view.body.source == ""  # apply only buffers
        await wait_until(pilot, lambda: view.query_one("#thought").display)
        assert view.query_one("#thought", Collapsible).title == "Thinking…"
        reply = builder.finish()
        await view.finish(reply)
        assert view.body.source == reply.content
        fence = view.body.query_one(MarkdownFence)
        assert "def greet(name: str) -> str:" in fence.code and fence.lexer == "python"
        thought = view.query_one("#thought", Collapsible)
        assert thought.title == "Thought" and thought.collapsed
        assert "Markdown renders" in thought.query_one(Markdown).source


async def test_replace_rerenders_the_content() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        feed(view, builder, sse(["Draft ", "text"]))
        await wait_until(pilot, lambda: view.body.source == "Draft text")
        feed(view, builder, [EventStep({"type": "replace", "data": {"content": "Final. "}})])
        feed(view, builder, [EventStep({"type": "message", "data": {"content": "More."}})])
        await wait_until(pilot, lambda: view.body.source == "Final. More.")
        feed(view, builder, sse([" And the end."]))
        await view.finish(builder.finish())
        assert view.body.source == builder.reply.content == "Final. More. And the end."


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
            view.apply(builder.feed(step), builder.reply)  # the reply passed with each step
        await wait_until(pilot, lambda: text_of(view, "error") == "boom")
        reply = builder.finish()
        await view.finish(reply)
        assert reply.status == "error"
        assert view.body.source == "Half an answer"
        assert text_of(view, "error") == "boom"


async def test_stopped_reply_shows_the_marker() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)):
        feed(view, builder, sse(["Some text"]))
        await view.finish(builder.finish("stopped"))
        assert view.body.source == "Some text"
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
        assert view.body.source == builder.reply.content == "Hello <thi"


async def test_finish_after_the_view_was_removed() -> None:
    view, builder = streaming()
    async with Host(view).run_test(size=(80, 24)) as pilot:
        feed(view, builder, sse(["Some ", "text"]))
        await wait_until(pilot, lambda: view.body.source == "Some text")
        feed(view, builder, sse([" more"]))
        await view.remove()
        await view.finish(builder.finish())  # the app's worker always finishes
        assert view.reply.content == "Some text more"
