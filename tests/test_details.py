"""runtime.reply.details and media: `<details>` blocks and image lines split from reply text,
whole or streamed in any pieces, and the bytes behind an image's URL."""

from __future__ import annotations

import base64
import random
from pathlib import Path

import pytest

from tuichat.runtime.reply.details import (
    Details,
    Image,
    Piece,
    RichSplitter,
    details_title,
    split_rich,
    tool_call_files,
    tool_call_sections,
)
from tuichat.runtime.reply.media import load, reply_media

TOOL_CALL = (
    '<details type="tool_calls" done="true" id="call_1" name="get_weather" '
    'arguments="{&quot;city&quot;: &quot;Paris &amp; &lt;Lyon&gt;&quot;}" '
    'result="&quot;{\\&quot;temp\\&quot;: 21}&quot;" files="[{&quot;type&quot;: &quot;image&quot;, '
    '&quot;url&quot;: &quot;data:image/png;base64,AAAA&quot;}]">\n'
    "<summary>Tool Executed</summary>\n"
    "</details>\n"
)
REPLY = (
    "Let me check.\n"
    + TOOL_CALL
    + "It is **21°C**.\n\n"
    "![a map](data:image/png;base64,iVBORw0KGgo=)\n"
    "```html\n<details>\nnot a block: inside a fence\n</details>\n```\n"
    "<details>\n<summary>Outer &amp; more</summary>\n"
    '<details type="reasoning" done="true" duration="3">\n<summary>Thought for 3 seconds</summary>\n&gt; hmm\n</details>\n'
    "inner text\n</details>\n"
    "end <b>bold</b>"
)


def merged(pieces: list[Piece]) -> list[Piece]:
    """What a view ends up showing: text joined, a block's later states in place of earlier."""
    out: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str) and out and isinstance(out[-1], str):
            out[-1] += piece
        elif isinstance(piece, Details) and out and isinstance(out[-1], Details) and out[-1].n == piece.n:
            out[-1] = piece
        else:
            out.append(piece)
    return out


def streamed(text: str, seed: int) -> list[Piece]:
    rng, splitter, out, at = random.Random(seed), RichSplitter(), [], 0
    while at < len(text):
        size = rng.choice((1, 2, 3, 7, 40))
        out += splitter.feed(text[at : at + size])
        at += size
    return out + splitter.flush()


def test_a_whole_reply_splits_into_text_blocks_and_images() -> None:
    pieces = split_rich(REPLY)
    kinds = [type(piece).__name__ if not isinstance(piece, str) else "text" for piece in pieces]
    assert kinds == ["text", "Details", "text", "Image", "text", "Details", "text"]
    call = pieces[1]
    assert isinstance(call, Details) and call.closed and call.kind == "tool_calls"
    # Attributes are HTML-unescaped once, as the page decodes them.
    assert call.attrs["arguments"] == '{"city": "Paris & <Lyon>"}'
    assert call.summary == "Tool Executed" and call.raw == TOOL_CALL.rstrip("\n")
    assert pieces[3] == Image(2, "a map", "data:image/png;base64,iVBORw0KGgo=")
    assert "not a block: inside a fence" in pieces[4]  # a fenced <details> is code
    outer = pieces[5]
    assert isinstance(outer, Details) and outer.summary == "Outer & more"
    nested = split_rich(outer.body)  # the fold's body: a nested block, then text
    assert isinstance(nested[0], Details) and nested[0].kind == "reasoning" and nested[0].body == "> hmm"
    assert pieces[6] == "\nend <b>bold</b>"  # other HTML stays text (shown as written)


@pytest.mark.parametrize("seed", range(40))
def test_any_pieces_give_what_the_whole_text_gives(seed: int) -> None:
    assert merged(streamed(REPLY, seed)) == split_rich(REPLY)


def test_a_block_shows_at_once_then_again_when_it_closes() -> None:
    splitter = RichSplitter()
    assert splitter.feed("Hi\n<details type=\"code_interpreter\" done=\"false\">") == ["Hi\n"]
    opened = splitter.feed("\n<summary>Analyzing</summary>\n```py\nprint(1)\n")
    assert [type(p) for p in opened] == [Details, Details]  # opened, then its summary known
    assert not opened[-1].closed and opened[-1].summary == "Analyzing"
    assert details_title(opened[-1], reply_done=False) == "Analyzing..."
    closed = splitter.feed("```\n</details>\nafter")
    assert isinstance(closed[0], Details) and closed[0].closed and closed[0].n == opened[0].n
    assert closed[0].body == "```py\nprint(1)\n```" and closed[1:] == ["\nafter"]
    assert details_title(closed[0], reply_done=True) == "Analyzed"


def test_text_goes_through_at_once_and_only_a_possible_opening_line_waits() -> None:
    splitter = RichSplitter()
    assert splitter.feed("Hello wor") == ["Hello wor"]
    assert splitter.feed("ld\n<det") == ["ld\n"]  # held: it may open a block
    assert splitter.feed("ermined") == ["<determined"]  # not a block after all: let through
    assert splitter.feed("\n!") == ["\n"]
    assert splitter.feed("[x](a.png) and more\n") == ["![x](a.png) and more\n"]  # an image inside text


def test_malformed_blocks() -> None:
    # No line break after the opening tag: not a block (as on the page).
    assert split_rich("<details>x</details>") == ["<details>x</details>"]
    # Never closed: a block all the same, marked unclosed, holding the rest of the text.
    (text, block) = split_rich("a\n<details type=\"reasoning\" done=\"false\">\n> thinking")
    assert text == "a\n" and isinstance(block, Details) and not block.closed and block.body == "> thinking"
    assert details_title(block, reply_done=False) == "Thinking..."
    # An attribute with no closing quote is just not an attribute.
    (odd,) = split_rich('<details type="tool_calls name=x>\n</details>')
    assert isinstance(odd, Details) and odd.attrs == {} and details_title(odd, True) == "Details"


def test_titles_are_open_webuis() -> None:
    def title(attrs: dict[str, str], done: bool = False) -> str:
        return details_title(Details(1, attrs, "Sum", closed=True), reply_done=done)

    assert title({"type": "tool_calls", "name": "f", "done": "false"}) == "Executing f..."
    assert title({"type": "tool_calls", "name": "f", "done": "true"}) == "View Result from f"
    assert title({"type": "tool_calls", "name": "f", "done": "false"}, done=True) == "View Result from f"
    assert title({"type": "tool_calls", "name": "f", "status": "rejected"}) == "Denied f"
    assert title({"type": "reasoning", "done": "true", "duration": "0"}) == "Thought for less than a second"
    assert title({"type": "reasoning", "done": "true", "duration": "3"}) == "Thought for 3 seconds"
    assert title({"type": "reasoning", "done": "true", "duration": "125"}) == "Thought for 2 minutes"
    assert title({"type": "reasoning", "done": "true"}) == "Thought"
    assert title({"type": "reasoning", "done": "false"}) == "Thinking..."
    assert title({}) == "Sum"


def test_a_tool_calls_input_and_output_are_pretty_json() -> None:
    (_, call, *_rest) = split_rich(REPLY)
    assert isinstance(call, Details)
    assert tool_call_sections(call) == [
        ("Input", '{\n  "city": "Paris & <Lyon>"\n}'),
        ("Output", '{\n  "temp": 21\n}'),
    ]
    assert tool_call_files(call) == [{"type": "image", "url": "data:image/png;base64,AAAA"}]


def test_streaming_cost_does_not_grow_with_the_text() -> None:
    # A long block fed a word at a time keeps its text in pieces, never rescanned: feeds
    # return nothing until the close, but for the one where its summary line is complete.
    splitter = RichSplitter()
    splitter.feed('<details type="reasoning" done="false">\n<summary>x</summary>\n')
    said = [out for _ in range(5000) if (out := splitter.feed("word "))]
    assert said == [[Details(1, {"type": "reasoning", "done": "false"}, "x")]]
    (block,) = splitter.feed("\n</details>")
    assert isinstance(block, Details) and block.body.count("word") == 5000


def test_media_load_data_urls_files_and_never_the_network(tmp_path: Path) -> None:
    png = base64.b64encode(b"\x89PNG fake").decode()
    assert load(f"data:image/png;base64,{png}").data == b"\x89PNG fake"
    assert load("data:image/png;base64,@@@").error == "its base64 data is corrupt"
    assert "too large to show" in (load(f"data:image/png;base64,{png}", most=4).error or "")
    assert "offline" in (load("https://example.com/a.png").error or "")
    path = tmp_path / "x.png"
    path.write_bytes(b"abc")
    assert load(str(path)).data == b"abc" and load(path.as_uri()).size == 3
    assert load(str(tmp_path / "gone.png")).error == "no such file on this machine"
    assert "Open WebUI server" in (load("/api/v1/files/1/content").error or "")
    media = reply_media(REPLY, [{"type": "file", "name": "r.pdf", "url": "/api/v1/files/1/content"}])
    assert [(m.name, m.image) for m in media] == [("", True), ("a map", True), ("r.pdf", False)]


def test_a_huge_image_is_refused_in_one_line_before_decoding() -> None:
    url = "data:image/png;base64," + "A" * 4_000_000  # 3,000,000 bytes
    assert load(url, most=1_000_000).error == "too large to show: 2.9 MB (the most is 976.6 KB)"


def test_the_markdown_export_keeps_blocks_as_written_and_lists_files() -> None:
    from tuichat.runtime.export import chat_to_markdown
    from tuichat.store import ChatRow, MessageRow

    png = "data:image/png;base64," + base64.b64encode(b"12345678").decode()
    chat = ChatRow(id="c", title="T", model_id="m", system_prompt=None, stream=True, params={},
                   created_at=0.0, updated_at=0.0, current_id=None, filter_ids=[], origin="app")  # fmt: skip
    files = [{"type": "image", "url": png, "name": "sky.png"}, {"type": "file", "url": "/api/v1/files/9/content"}]
    reply = MessageRow(id="r", chat_id="c", parent_id=None, role="assistant", content=REPLY, model_id="m",
                       created_at=0.0, updated_at=0.0, status="done", error=None, reasoning=None, usage=None,
                       extra={"files": files})  # fmt: skip
    markdown = chat_to_markdown(chat, [reply])
    assert TOOL_CALL in markdown  # the block as the pipe wrote it: viewers fold it
    assert markdown.endswith(
        "**Files**\n\n- sky.png (image, image/png, 8 B)\n- /api/v1/files/9/content (file)\n"
    )
