"""
title: Markdown Showcase
author: tuichat
version: 0.1.0
description: Streams an LLM-style Markdown answer in small chunks: a <think> block, headings, lists, a table and code.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator

ANSWER = """<think>
The user wants to see how Markdown renders. I'll show a heading, a couple of
paragraphs, both kinds of list, a table and a code block, and keep each short.
</think>

# Markdown showcase

This reply arrives in small pieces, the way a language model streams tokens.
The text above the heading was wrapped in *think* tags, so Open WebUI folds it
into a collapsible "thought" block instead of showing it inline.

Paragraphs can hold **bold**, *italic*, `inline code` and
[links](https://docs.openwebui.com).

## Lists

- Bullets, for things in no particular order
- Nested items work too
  - like this one

1. Numbered steps
2. keep their order
3. even when streamed

## A table

| Event          | Shows               |
|----------------|---------------------|
| `status`       | a progress line     |
| `citation`     | a source chip       |
| `notification` | a toast             |

## Some code

```python
def greet(name: str) -> str:
    return f"Hello, {name}!"


print(greet("tuichat"))
```
"""

# Note the answer never writes the tag itself outside the reasoning block:
# Open WebUI looks for reasoning tags anywhere in the streamed text, and a
# second opening tag would turn the rest of the reply into reasoning.

# Chunk lengths, used in turn. Real models send uneven pieces that ignore
# Markdown and tag boundaries; starting with 4 splits the opening tag into
# "<thi" + "nk>...", so a renderer has to cope with tags cut across chunks.
CHUNK_SIZES = (4, 7, 3, 6, 8, 5)


def chunks(text: str) -> Iterator[str]:
    """Cut `text` into consecutive pieces of 3 to 8 characters (the last may be shorter)."""
    sizes = itertools.cycle(CHUNK_SIZES)
    start = 0
    while start < len(text):
        end = start + next(sizes)
        yield text[start:end]
        start = end


class Pipe:
    async def pipe(self, body: dict) -> AsyncIterator[str]:
        for piece in chunks(ANSWER):
            yield piece
            # A short await between pieces looks like a model typing, and
            # gives the server a chance to do other work.
            await asyncio.sleep(0.005)
