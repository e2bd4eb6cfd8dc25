"""What an empty conversation shows: what tuichat is, the example pipes and what each shows,
the keys that matter, and how to bring your own pipe or a local model. It fits 80x24 and goes
as soon as the chat has a message."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

# The bundled examples (`tuichat/examples`, by id): their names and what trying each shows.
EXAMPLES: dict[str, tuple[str, str]] = {
    "echo": ("Echo", "says back what you type (valves: F7, v)"),
    "events": ("Event Tour", "every event: status, sources, toasts, files…"),
    "ask": ("Ask Me", "asks you things in dialogs (__event_call__)"),
    "markdown": ("Markdown Showcase", "a streamed answer, its thinking folded"),
    "manifold": ("Demo Manifold", "one pipe, three models"),
    "local": ("Local Models", "your own models: run Ollama or llama.cpp's server"),
}


def _keys(*parts: str) -> Text:
    """Text whose odd parts (the keys) are bold."""
    text = Text()
    for index, part in enumerate(parts):
        text.append(part, style="bold" if index % 2 else "")
    return text


def welcome_text() -> RenderableType:
    """The examples are a grid, so that in a narrow pane a description wraps in its column."""
    examples = Table.grid(padding=(0, 2))
    examples.add_column(no_wrap=True, style="bold")
    examples.add_column()
    for name, what in EXAMPLES.values():
        examples.add_row(f"  {name}", what)
    return Group(
        _keys("", "tuichat", " runs Open WebUI pipes in your terminal, offline."),
        _keys("Example pipes to try (", "ctrl+o", " picks one):"),
        examples,
        Text(),
        _keys("", "ctrl+o", " model · ", "F7", " pipes, yours too · ", "ctrl+p", " every command"),
        _keys("", "Tab", " reads the chat: ", "t", " / ", "s", " fold a reply's thought / sources"),
        _keys("Your own pipe: ", "F7", ", then ", "n", " (a template) or ", "i", " (a .py file)."),
    )


class Welcome(Static):
    DEFAULT_CSS = """
    Welcome {
        margin: 1 1 0 1;
        padding: 0 1;
        color: $text-muted;
        border-left: outer $accent;
    }
    """

    def __init__(self) -> None:
        super().__init__(welcome_text(), id="welcome")
