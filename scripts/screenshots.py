"""Take screenshots of tuichat's main views, as SVG and PNG, to look at or to refresh screenshots/.

    python scripts/screenshots.py            # all of them, 100x30, into a new temporary folder
    python scripts/screenshots.py --size 80x24 --out /tmp/shots
    python scripts/screenshots.py --update   # refresh the committed screenshots/ (the README's)

Only `--update` writes to screenshots/, so trying a change never overwrites the README's pictures.

Runs the real app headless (Textual's Pilot) on a throw-away database, so your own chats are
never touched and the example pipes are freshly seeded. It writes:

    welcome                  the first screen: an empty chat's welcome
    conversation-streaming   the events example mid-reply: spinner status, sources, activity pane
    conversation-markdown    the markdown example's finished reply (thought, table, code fence)
    model-picker             ctrl+o with the example models
    event-call-confirm       the ask example's first `__event_call__`: a confirmation dialog
    event-call-input         its next question: an input dialog
    pipes-screen             F7: every stored function, its models, and the manifold's details
    editor-error             the echo pipe in the editor after a save refused for a syntax error
    valves-form              the echo pipe's admin valves form

The "streaming" picture is taken while the pipe is paused at a known point (a gate wraps
`Turn.run` and holds the next step until the picture is taken), so it shows the same moment
every time; only the spinner's frame varies.

PNGs are converted from the SVGs with `rsvg-convert` (Debian/Ubuntu: `apt-get install
librsvg2-bin`, macOS: `brew install librsvg`). Without it the SVGs are still written. The SVGs
ask for the Fira Code font; install it too (`apt-get install fonts-firacode`) or the PNGs'
borders come out ragged, because a fallback font's cells are narrower.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Input, TextArea  # noqa: E402

from tuichat.runtime import turn as turn_module  # noqa: E402
from tuichat.ui.app import TuichatApp  # noqa: E402
from tuichat.ui.chat.screen import ChatScreen  # noqa: E402
from tuichat.ui.screens.event_call import ConfirmationDialog, InputDialog  # noqa: E402
from tuichat.ui.screens.model_picker import ModelPicker  # noqa: E402
from tuichat.ui.widgets.conversation import Conversation  # noqa: E402
from tuichat.ui.widgets.user_message import UserMessage  # noqa: E402

INSTALL_RSVG = "rsvg-convert not found, so only SVGs were written. Install it for PNGs:\n" \
    "  Debian/Ubuntu: apt-get install librsvg2-bin\n  macOS: brew install librsvg"
INSTALL_FONT = "Fira Code is not installed: PNGs use a fallback font whose cells are narrower than\n" \
    "the SVG's, so long runs of border characters fall short. Install it for exact PNGs:\n" \
    "  Debian/Ubuntu: apt-get install fonts-firacode\n  macOS: brew install --cask font-fira-code"
# The local user is named after your login and the `ask` example pre-fills it: use a fixed one.
SCREENSHOT_USER = "ada"


# -- driving the app ---------------------------------------------------------------------
async def until(pilot: Pilot[Any], condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.02)


async def ready(pilot: Pilot[Any]) -> ChatScreen:
    """The chat screen, once the runtime has seeded the examples and listed the models."""
    await until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ChatScreen)
    await until(pilot, lambda: screen.listing is not None)
    return screen


async def pick(pilot: Pilot[Any], query: str) -> None:
    await pilot.press("ctrl+o")
    await until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker))
    await pilot.press(*query, "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen))


async def send(pilot: Pilot[Any], text: str) -> None:
    await pilot.press(*text, "enter")


WRITTEN: list[Path] = []


async def snap(pilot: Pilot[Any], out: Path, name: str) -> Path:
    """Stop cursors blinking, let the screen settle, and save `name`.svg."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, (Input, TextArea)):
            widget.cursor_blink = False
    await pilot.pause(0.2)  # more than a reply's flush interval: buffered text is drawn
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    path = pilot.app.save_screenshot(f"{name}.svg", str(out))
    print(f"  {Path(path).relative_to(ROOT) if Path(path).is_relative_to(ROOT) else path}")
    WRITTEN.append(Path(path))
    return Path(path)


class Gate:
    """Holds a reply at the first step where `when(reply)` is true, until `release()`.

    Wraps `Turn.run` (the only change to the app, made here for the screenshots): the pipe
    and the screen see a normal stream that just pauses at a known point.
    """

    def __init__(self, when: Callable[[Any], bool]) -> None:
        self.when = when
        self.reached = asyncio.Event()
        self._open = asyncio.Event()
        self._original = turn_module.Turn.run

    def __enter__(self) -> Gate:
        gate, original = self, self._original

        async def run(turn: Any) -> AsyncIterator[Any]:
            async for step in original(turn):
                yield step
                if not gate.reached.is_set() and gate.when(turn.builder.snapshot()):
                    gate.reached.set()
                    await gate._open.wait()

        turn_module.Turn.run = run  # type: ignore[method-assign]
        return self

    def release(self) -> None:
        self._open.set()

    def __exit__(self, *exc: object) -> None:
        self.release()
        turn_module.Turn.run = self._original  # type: ignore[method-assign]


# -- the views ---------------------------------------------------------------------------
async def welcome(pilot: Pilot[Any], out: Path) -> None:
    await ready(pilot)
    await pilot.app.workers.wait_for_complete()
    await snap(pilot, out, "welcome")


async def streaming(pilot: Pilot[Any], out: Path) -> None:
    screen = await ready(pilot)
    await pick(pilot, "events")
    # Paused after the citations: status "Citing sources" still running, two sources listed.
    with Gate(lambda reply: "one `source`." in reply.content) as gate:
        await send(pilot, "Give me the tour")
        await until(pilot, gate.reached.is_set)
        await snap(pilot, out, "conversation-streaming")
        gate.release()
        await until(pilot, lambda: not screen.streaming)
    await pilot.app.workers.wait_for_complete()


async def markdown(pilot: Pilot[Any], out: Path) -> None:
    screen = await ready(pilot)
    await pick(pilot, "markdown")
    await send(pilot, "Show me some Markdown")
    await until(pilot, lambda: bool(screen.query_one(Conversation).replies()) and not screen.streaming)
    await pilot.press("f3")  # this pipe sends no events: close the activity pane for more reply
    await pilot.pause(0.2)
    conversation = screen.query_one(Conversation)
    conversation.release_anchor()
    conversation.scroll_to_widget(screen.query_one(UserMessage), animate=False, top=True)
    await snap(pilot, out, "conversation-markdown")


async def picker(pilot: Pilot[Any], out: Path) -> None:
    await ready(pilot)
    await pilot.press("ctrl+o")
    await until(pilot, lambda: isinstance(pilot.app.screen, ModelPicker))
    await snap(pilot, out, "model-picker")


async def event_call(pilot: Pilot[Any], out: Path) -> None:
    screen = await ready(pilot)
    await pick(pilot, "ask")
    await send(pilot, "Ask me something")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmationDialog))
    await snap(pilot, out, "event-call-confirm")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, InputDialog))
    await snap(pilot, out, "event-call-input")
    screen.action_stop()
    await until(pilot, lambda: not screen.streaming)


async def open_pipes(pilot: Pilot[Any]) -> None:
    """F7 from the chat screen once the models are listed; returns when the pipes screen has
    loaded, with its first row (echo) selected."""
    from tuichat.ui.workshop.pipes_screen import PipesScreen

    await ready(pilot)
    await pilot.press("f7")
    await until(pilot, lambda: isinstance(pilot.app.screen, PipesScreen) and pilot.app.screen.loaded)


async def pipes(pilot: Pilot[Any], out: Path) -> None:
    await open_pipes(pilot)
    await pilot.press("down")  # the manifold: three models in the detail panel
    await snap(pilot, out, "pipes-screen")


async def editor_error(pilot: Pilot[Any], out: Path) -> None:
    from tuichat.ui.workshop.editor_screen import EditorScreen

    await open_pipes(pilot)
    await pilot.press("e")  # the first row: echo
    await until(pilot, lambda: isinstance(pilot.app.screen, EditorScreen) and pilot.app.screen.saved_text is not None)
    editor = pilot.app.screen
    assert isinstance(editor, EditorScreen)
    line = next(n for n, text in enumerate(editor.editor.text.splitlines()) if "def pipe(" in text)
    editor.editor.move_cursor((line + 1, 0))
    editor.editor.insert("        words = body[\"messages\"][-1][\"content\"].split(\n")
    await pilot.press("f2")
    await until(pilot, lambda: editor.saves_finished == 1 and editor.error_shown)
    await snap(pilot, out, "editor-error")


async def valves_form(pilot: Pilot[Any], out: Path) -> None:
    from tuichat.ui.screens.valves_form import ValvesScreen

    await open_pipes(pilot)
    await pilot.press("v")  # the first row: echo
    await until(pilot, lambda: isinstance(pilot.app.screen, ValvesScreen) and pilot.app.screen.loaded)
    await snap(pilot, out, "valves-form")


VIEWS = [welcome, streaming, markdown, picker, event_call, pipes, editor_error, valves_form]


async def take(view: Callable[[Pilot[Any], Path], Any], out: Path, size: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory(prefix="tuichat-shots-") as tmp:
        app = TuichatApp(Path(tmp) / "shots.db")
        async with app.run_test(size=size) as pilot:
            await view(pilot, out)


# -- PNG ---------------------------------------------------------------------------------
def to_png(svg: Path, rsvg: str) -> Path:
    """Convert with rsvg-convert. Rich's SVG puts a space (U+00A0) at the start of some text
    runs, which librsvg drops unless whitespace is preserved: "**three** quick" would render
    as "threequick". The SVG file itself is left as Textual wrote it."""
    text = svg.read_text(encoding="utf-8").replace("<svg ", '<svg xml:space="preserve" ', 1)
    png = svg.with_suffix(".png")
    subprocess.run([rsvg, "--format=png", "--output", str(png)], input=text.encode(), check=True)
    return png


def has_fira_code() -> bool:
    """Whether fontconfig resolves the SVG's font (unknown, so assumed yes, without fc-match)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return True
    found = subprocess.run([fc_match, "-f", "%{family}", "Fira Code"], capture_output=True, text=True)
    return "Fira Code" in found.stdout


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, help="folder to write to (default: a new temporary folder)")
    where.add_argument("--update", action="store_true", help="write to screenshots/, the pictures the README shows")
    parser.add_argument("--size", default="100x30", help="terminal size WxH (default: 100x30)")
    return parser.parse_args(argv)


def output_folder(args: argparse.Namespace) -> Path:
    """screenshots/ only with --update; else --out, or a new temporary folder."""
    if args.update:
        out = ROOT / "screenshots"
    elif args.out is not None:
        out = args.out.resolve()
    else:
        return Path(tempfile.mkdtemp(prefix="tuichat-screenshots-"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))
    out = output_folder(args)
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):  # what getpass.getuser() reads
        os.environ[variable] = SCREENSHOT_USER

    print(f"Writing screenshots at {width}x{height} to {out}:")
    for view in VIEWS:
        asyncio.run(take(view, out, (width, height)))

    svgs = list(WRITTEN)
    rsvg = shutil.which("rsvg-convert")
    if rsvg is None:
        print(INSTALL_RSVG, file=sys.stderr)
        return 0
    if not has_fira_code():
        print(INSTALL_FONT, file=sys.stderr)
    for svg in svgs:
        to_png(svg, rsvg)
    print(f"PNGs: {', '.join(svg.with_suffix('.png').name for svg in svgs)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
