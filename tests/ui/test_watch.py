"""Live reload inside the running app: `tuichat --watch FILE.py`, and linking from the pipes screen.

A watched file that changes is saved into its function while the app runs, so the next reply
uses the new code; a broken save is reported (toast, `watch_reported`, the pipes screen's detail
panel) and the last good version keeps serving.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from textual.widgets import Input

from tests.tracing import collect
from tests.ui import helpers
from tests.ui.helpers import answer_prompt, cell, confirm, open_pipes, ready, select
from tuichat.runtime.host import make_body
from tuichat.runtime.reply.builder import reply_from_steps
from tuichat.runtime.watch import WatchReport
from tuichat.ui.app import TuichatApp
from tuichat.ui.screens.prompts import TextPromptScreen

SIZE = (100, 30)


def answers(text: str) -> str:
    return f'"""\ntitle: Live\n"""\n\nclass Pipe:\n    def pipe(self, body):\n        return {text!r}\n'


BROKEN = "class Pipe:\n    def pipe(self, body)\n        return 'never'\n"


def manifold(names: list[str]) -> str:
    listed = ", ".join(f'{{"id": "{n}", "name": "{n.title()}"}}' for n in names)
    return f"class Pipe:\n    def pipes(self):\n        return [{listed}]\n\n    def pipe(self, body):\n        return body['model']\n"


# A reload waits for the watcher to notice the file: allow up to 20 s.
until = partial(helpers.until, timeout=20.0)


async def reply(app: TuichatApp, model: str) -> str:
    assert app.services is not None
    invocation = await app.services.host.invoke(model, make_body(model, [{"role": "user", "content": "hi"}], stream=False))
    return reply_from_steps(await collect(invocation)).content


def write(path: Path, text: str) -> None:
    """Save as an editor does; the size changes too, so the watcher never misses it."""
    path.write_text(text, encoding="utf-8")


async def test_a_watched_file_reloads_under_the_running_app(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "live.py"
    write(path, answers("one"))
    app = TuichatApp(db_path, watch=[path])
    reports: list[WatchReport] = []
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.watcher is not None and "live" in app.watcher.watched)
        assert app.watcher is not None and app.watcher.watched["live"] == str(path.resolve())
        app.watch_reported.subscribe(app, reports.append, immediate=True)
        assert await reply(app, "live") == "one"
        assert any("Watching" in str(n.message) for n in app._notifications)

        write(path, answers("two, from the new code"))
        await until(pilot, lambda: any(r.ok and r.changed for r in reports))
        assert app.services is not None
        assert "two, from the new code" in (await app.services.library.get("live")).content
        assert await reply(app, "live") == "two, from the new code"

        # A broken save: reported with its line, and the last good version keeps serving.
        write(path, BROKEN)
        await until(pilot, lambda: any(not r.ok for r in reports))
        failed = next(r for r in reports if not r.ok)
        assert failed.function_id == "live" and failed.line == 2 and "SyntaxError" in failed.message
        assert "last good version keeps serving" in failed.message
        await until(pilot, lambda: any(n.severity == "error" and "SyntaxError" in str(n.message) for n in app._notifications))
        row = await app.services.library.get("live")
        assert row.is_active and "two, from the new code" in row.content
        assert await reply(app, "live") == "two, from the new code"

        # The pipes screen shows the last report of the function.
        screen = await open_pipes(pilot)
        select(screen, "live")
        await pilot.pause()
        report = str(screen.query_one("#detail-report").render())
        assert report.startswith("Reload:") and " failed" in report and "line 2" in report and "SyntaxError" in report
        assert "(watching for changes)" in str(screen.query_one("#detail-file").render())
        assert cell(screen, "live", 5) == "reload err"

        # Fixed again while the screen is open: the panel follows.
        write(path, answers("three"))
        await until(pilot, lambda: " ok: reloaded 'live'" in str(screen.query_one("#detail-report").render()))
        assert await reply(app, "live") == "three"


async def test_a_watched_manifold_changes_its_models_in_the_picker(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "multi.py"
    write(path, manifold(["alpha"]))
    app = TuichatApp(db_path, watch=[path])
    async with app.run_test(size=SIZE) as pilot:
        chat = await ready(pilot)
        await until(pilot, lambda: chat.listing is not None and "multi.alpha" in chat.listing.by_id())
        write(path, manifold(["alpha", "beta", "gamma"]))
        await until(pilot, lambda: chat.listing is not None and "multi.gamma" in chat.listing.by_id())
        assert app.services is not None
        listing = await app.services.host.list_models()
        assert [m["id"] for m in listing.models if m["id"].startswith("multi.")] == ["multi.alpha", "multi.beta", "multi.gamma"]
        assert await reply(app, "multi.beta") == "multi.beta"


async def test_link_and_unlink_from_the_pipes_screen(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "echo_copy.py"
    app = TuichatApp(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_pipes(pilot)
        select(screen, "echo")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert app.screen.query_one(Input).value == "./echo.py"
        await answer_prompt(pilot, str(path))
        assert "does not exist" in await confirm(pilot, True)  # create it with the current code
        await until(pilot, lambda: not screen.busy and app.watcher is not None and "echo" in app.watcher.watched)
        assert app.services is not None
        echo = await app.services.library.get("echo")
        assert path.read_text(encoding="utf-8") == echo.content and echo.linked_path == str(path.resolve())
        await until(pilot, lambda: cell(screen, "echo", 5) == "linked")
        assert "watching for changes" in str(screen.query_one("#detail-file").render())

        # Edit the file: the echo pipe now shouts, the screen reports the reload.
        write(path, echo.content.replace('title: Echo', 'title: Loud Echo'))
        await until(pilot, lambda: cell(screen, "echo", 2) == "Loud Echo")
        await until(pilot, lambda: " ok: reloaded 'echo'" in str(screen.query_one("#detail-report").render()))

        # l again offers to unlink.
        await pilot.press("l")
        assert "Unlink" in await confirm(pilot, True)
        await until(pilot, lambda: not screen.busy and "echo" not in app.watcher.watched)  # type: ignore[union-attr]
        assert (await app.services.library.get("echo")).linked_path is None
        assert "not linked" in str(screen.query_one("#detail-file").render())


async def test_watching_a_new_file_starts_it_from_the_template_and_the_chat_talks_to_it(db_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "brand_new.py"  # does not exist: `tuichat --watch brand_new.py` to start a pipe
    app = TuichatApp(db_path, watch=[path, tmp_path / "no-such-folder" / "x.py"])
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        await until(pilot, lambda: screen.model_id == "brand_new")
        assert screen.sub_title == "brand_new"
        assert app.services is not None and app.watcher is not None
        assert app.watcher.watched["brand_new"] == str(path.resolve())
        assert path.read_text(encoding="utf-8") == (await app.services.library.get("brand_new")).content
        messages = [str(n.message) for n in app._notifications]
        assert any("created brand_new.py from the pipe template, as the new pipe 'brand_new'" in m for m in messages), messages
        assert any("cannot create" in m and "no-such-folder" in m for m in messages), messages
        assert "You said: hi" in await reply(app, "brand_new")
        reports: list[WatchReport] = []
        app.watch_reported.subscribe(app, reports.append, immediate=True)
        write(path, answers("my own code"))
        await until(pilot, lambda: any(r.ok and r.changed for r in reports))
        assert await reply(app, "brand_new") == "my own code"
