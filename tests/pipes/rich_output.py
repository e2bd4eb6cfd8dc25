"""
title: Rich output
description: A reply with a tool-call fold, a reasoning fold, a code run, a PNG image and a files event, as Open WebUI pipes write them.
version: 0.1.0
"""

import asyncio
import base64
import json
import struct
import zlib
from html import escape


def png(width: int = 48, height: int = 24) -> bytes:
    """A small PNG (a sky over a field with a sun), made without any imaging library."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            if (x - 36) ** 2 + (y - 6) ** 2 < 16:
                row += bytes((250, 210, 40))
            elif y < height * 2 // 3:
                row += bytes((90, 150, 230))
            else:
                row += bytes((60, 160, 70))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


def attr(value: object) -> str:
    return escape(value if isinstance(value, str) else json.dumps(value), quote=True)


class Pipe:
    async def pipe(self, body: dict, __event_emitter__=None):
        image = "data:image/png;base64," + base64.b64encode(png()).decode()
        arguments = {"city": "Paris", "unit": "celsius"}
        result = json.dumps({"city": "Paris", "temperature": 21, "sky": "sunny"})
        yield "Let me look that up.\n"
        await asyncio.sleep(0.05)
        yield (
            f'<details type="tool_calls" done="true" id="call_1" name="get_weather" '
            f'arguments="{attr(json.dumps(arguments))}" result="{attr(json.dumps(result))}" files="" embeds="">\n'
            "<summary>Tool Executed</summary>\n</details>\n"
        )
        yield '<details type="reasoning" done="true" duration="3">\n<summary>Thought for 3 seconds</summary>\n'
        yield "> Sunny and 21 °C: a picture will say it best.\n</details>\n"
        yield "It is **21 °C and sunny** in Paris. Here is the sky:\n\n"
        yield f"![Sky over Paris]({image})\n"
        if __event_emitter__ is not None:
            await __event_emitter__({"type": "files", "data": {"files": [{"type": "image", "url": image, "name": "sky.png"}]}})
        yield "\nA tag the page would not render stays readable: <b>bold</b>.\n"
