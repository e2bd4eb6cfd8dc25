"""A reply's `<details>` folds and images in the TUI: streamed or stored they read the same,
folds open and close by keyboard, images are drawn (half-blocks here) or said why not."""

from __future__ import annotations

import base64
import importlib.util
import random
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from tests.ui.helpers import screen_lines, settled
from tuichat.runtime.invocation.codec import chunk_line
from tuichat.runtime.invocation.trace import EventStep, SseStep
from tuichat.runtime.reply.builder import ReplyBuilder
from tuichat.runtime.reply.model import Reply
from tuichat.ui.widgets.reply import ReplyView
from tuichat.ui.widgets.rich_pieces import DetailsFold, MediaView

_spec = importlib.util.spec_from_file_location("rich_output", Path(__file__).parents[1] / "pipes" / "rich_output.py")
assert _spec is not None and _spec.loader is not None
rich_output: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rich_output)

IMAGE = "data:image/png;base64," + base64.b64encode(rich_output.png()).decode()
CALL = (
    '<details type="tool_calls" done="true" id="c1" name="get_weather" '
    'arguments="{&quot;city&quot;: &quot;Paris&quot;}" result="{&quot;temp&quot;: 21}">\n'
    "<summary>Tool Executed</summary>\n</details>\n"
)
CONTENT = f"Let me look.\n{CALL}It is **21 °C**.\n\n![Sky]({IMAGE})\nBye <b>now</b>.\n"


class Host(App[None]):
    def __init__(self, view: ReplyView) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield self.view


def shown(app: App[Any]) -> str:
    return "\n".join(screen_lines(app))


async def test_a_stored_reply_shows_a_closed_fold_an_image_and_html_as_text() -> None:
    app = Host(ReplyView(Reply(content=CONTENT, status="done")))
    async with app.run_test(size=(80, 30)) as pilot:
        text = await settled(pilot, lambda: shown(app))
        assert "▶ View Result from get_weather" in text and '"city"' not in text
        assert "🖼 Sky · image/png · 130 B · 48×24 px (F5 saves it)" in text
        assert "▀▀▀▀" in text  # drawn in half-blocks
        assert "Bye <b>now</b>." in text  # other HTML shown as written, not dropped
        assert "<details" not in text and "base64" not in text


async def test_a_fold_opens_and_closes_by_enter_and_by_d() -> None:
    app = Host(ReplyView(Reply(content=CONTENT, status="done")))
    async with app.run_test(size=(80, 30)) as pilot:
        fold = app.query_one(DetailsFold)
        fold.focus()
        await pilot.press("enter")
        text = await settled(pilot, lambda: shown(app))
        assert "▼ View Result from get_weather" in text
        assert 'Input\n    {\n      "city": "Paris"\n    }' in text.replace("  \n", "\n")
        assert '"temp": 21' in text
        await pilot.press("enter")
        text = await settled(pilot, lambda: shown(app))
        assert "▶ View Result from get_weather" in text and '"temp"' not in text
        view = app.view
        assert view.can_fold("details")
        view.toggle_fold("details")  # what `d` does on the selected reply
        assert '"temp": 21' in await settled(pilot, lambda: shown(app))
        view.toggle_fold("details")
        assert '"temp"' not in await settled(pilot, lambda: shown(app))


async def test_a_streamed_reply_in_any_pieces_ends_as_the_stored_one_shows() -> None:
    rng = random.Random(7)
    pieces, at = [], 0
    while at < len(CONTENT):
        size = rng.choice((1, 3, 9, 50))
        pieces.append(CONTENT[at : at + size])
        at += size
    view, builder = ReplyView(streaming=True), ReplyBuilder()
    app = Host(view)
    async with app.run_test(size=(80, 30)) as pilot:
        for piece in pieces:
            view.apply(builder.feed(SseStep(chunk_line("m", piece))))
            await pilot.pause(0)
        await view.finish(builder.finish())
        streamed = await settled(pilot, lambda: shown(app))
    stored_app = Host(ReplyView(Reply(content=CONTENT, status="done")))
    async with stored_app.run_test(size=(80, 30)) as pilot:
        stored = await settled(pilot, lambda: shown(stored_app))
    assert [line for line in streamed.splitlines() if line.strip()] == [line for line in stored.splitlines() if line.strip()]


async def test_a_running_block_shows_as_running_then_done_when_the_reply_ends() -> None:
    view, builder = ReplyView(streaming=True), ReplyBuilder()
    app = Host(view)
    async with app.run_test(size=(80, 20)) as pilot:
        view.apply(builder.feed(SseStep(chunk_line("m", 'Run:\n<details type="code_interpreter" done="false">\n'))))
        view.apply(builder.feed(SseStep(chunk_line("m", "<summary>Analyzing</summary>\n```python\nprint(1)\n"))))
        text = await settled(pilot, lambda: shown(app))
        assert "Analyzing..." in text
        assert app.query_one(DetailsFold).running
        await view.finish(builder.finish())
        text = await settled(pilot, lambda: shown(app))
        assert "Analyzed (never closed: </details> is missing)" in text


async def test_files_events_and_broken_or_remote_images_say_what_they_are() -> None:
    broken = "data:image/png;base64," + base64.b64encode(b"not a png at all").decode()
    content = f"![broken]({broken})\n![far](https://example.com/cat.png)\n"
    view, builder = ReplyView(streaming=True), ReplyBuilder()
    app = Host(view)
    async with app.run_test(size=(100, 20)) as pilot:
        view.apply(builder.feed(SseStep(chunk_line("m", content))))
        view.apply(builder.feed(EventStep({"type": "files", "data": {"files": [{"type": "image", "url": IMAGE, "name": "sky.png"}]}})))
        assert "sky.png" in await settled(pilot, lambda: shown(app))  # as it comes, under the text
        view.apply(builder.feed(SseStep(chunk_line("m", "More text after the file.\n"))))
        await view.finish(builder.finish())
        text = await settled(pilot, lambda: shown(app))
        assert len(app.query(MediaView)) == 3
    assert "🖼 broken · image/png · 16 B: cannot show it: UnidentifiedImageError: cannot identify image file" in text
    assert "🖼 far https://example.com/cat.png: not fetched: tuichat works offline" in text
    assert "🖼 sky.png · image/png · 130 B · 48×24 px (F5 saves it)" in text
    assert text.index("More text after the file.") < text.index("sky.png")  # files stay under the text


async def test_a_replaced_text_drops_its_folds() -> None:
    view, builder = ReplyView(streaming=True), ReplyBuilder()
    app = Host(view)
    async with app.run_test(size=(80, 20)) as pilot:
        view.apply(builder.feed(SseStep(chunk_line("m", CONTENT))))
        await settled(pilot, lambda: shown(app))
        assert app.query(DetailsFold)
        view.apply(builder.feed(EventStep({"type": "replace", "data": {"content": "Plain now."}})))
        await view.finish(builder.finish())
        text = await settled(pilot, lambda: shown(app))
    assert "Plain now." in text and "View Result" not in text and not app.query(MediaView)


async def test_the_rich_output_pipe_in_the_app_folds_by_keys_and_f5_saves_its_image(db_path: Path, tmp_path: Path) -> None:
    from tests.ui.helpers import chat_app, chat_with, until, with_pipe
    from tuichat.ui.screens.copy import CopyScreen
    from tuichat.ui.screens.prompts import TextPromptScreen

    await with_pipe(db_path, (Path(__file__).parents[1] / "pipes" / "rich_output.py").read_text(), "rich")
    async with chat_app(db_path, (80, 24)) as (app, pilot, screen):
        reply = await chat_with(pilot, screen, "rich", "weather?")
        await until(pilot, lambda: len(reply.query(MediaView)) == 2)  # the Markdown image, the files event
        folds = list(reply.query(DetailsFold).results(DetailsFold))
        assert [fold.query_one(".title").render().plain for fold in folds] == [  # type: ignore[attr-defined]
            "▶ View Result from get_weather", "▶ Thought for 3 seconds",
        ]
        await pilot.press("tab", "d")
        await until(pilot, lambda: all(fold.open for fold in folds))
        await pilot.press("d")
        await until(pilot, lambda: not any(fold.open for fold in folds))
        await pilot.press("escape", "f5")
        await until(pilot, lambda: isinstance(app.screen, CopyScreen))
        labels = [item.label for item in app.screen.items]  # type: ignore[attr-defined]
        assert labels[-2:] == [
            "Image 1: Sky over Paris · image/png · 130 B (Enter saves it)",
            "Image 2: sky.png · image/png · 130 B (Enter saves it)",
        ]
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert app.screen.query_one("Input").value == "~/sky.png"  # type: ignore[attr-defined]
        target = tmp_path / "saved.png"
        app.screen.query_one("Input").value = str(target)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(pilot, target.exists)
        assert target.read_bytes() == rich_output.png()
