"""Images and files a reply carries: Markdown images, `files` events, a tool call's files.

What the chat view shows and F5 saves. Data URLs and local paths are read (once, bounded);
http(s) URLs are never fetched: tuichat works offline, so such an image is shown by its alt
text and address. Open WebUI's own file URLs (`/api/v1/files/…`) name files on a server
this machine has not got.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlparse

from tuichat.runtime.reply.details import Details, Image, Piece, split_rich, tool_call_files

MOST_BYTES: Final = 20 * 1024 * 1024  # an image or file larger than this is not read
_DATA_URL: Final = re.compile(r"data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[^;,]*)*)(;base64)?,", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Media:
    """One image or file of a reply, as it was named."""

    name: str  # alt text or file name, may be empty
    url: str
    image: bool  # shown as an image (else a file line)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A media item's bytes, or why there are none. `where`: the URL as one short line."""

    where: str
    mime: str = ""
    data: bytes | None = None
    size: int | None = None  # bytes, when known
    error: str | None = None  # why it is not shown (a remote URL, a missing file, bad data)


def media_of_pieces(pieces: list[Piece]) -> list[Media]:
    """The images among a reply's pieces, and the files of its tool calls, in order."""
    found: list[Media] = []
    for piece in pieces:
        if isinstance(piece, Image):
            found.append(Media(piece.alt, piece.url, True))
        elif isinstance(piece, Details):
            found += [media_of_file(item) for item in tool_call_files(piece)]
            found += media_of_pieces(split_rich(piece.body)) if piece.body else []
    return found


def media_of_file(item: dict[str, Any]) -> Media:
    """An item of a `files` event, or of a tool call's `files`."""
    url = str(item.get("url") or "")
    name = str(item.get("name") or item.get("filename") or "")
    kind = str(item.get("type") or "")
    mime = str(item.get("content_type") or (item.get("meta") or {}).get("content_type") or "")
    return Media(name, url, kind == "image" or mime.startswith("image/") or url.startswith("data:image/"))


def reply_media(content: str, files: list[Any]) -> list[Media]:
    """Every image and file a reply shows: in its text, then its `files`."""
    return media_of_pieces(split_rich(content)) + [media_of_file(item) for item in files if isinstance(item, dict)]


def load(url: str, *, most: int = MOST_BYTES) -> Loaded:
    """The bytes behind `url`: a data URL decoded, a local file read; never the network."""
    if url.startswith("data:"):
        return _from_data_url(url, most)
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        return Loaded(_short(url), error="not fetched: tuichat works offline (open the address in a browser)")
    if parsed.scheme == "file":
        return _from_path(Path(unquote(parsed.path)), most)
    if not parsed.scheme and (url.startswith(("/", "~"))) and not url.startswith("/api/"):
        return _from_path(Path(url).expanduser(), most)
    if url.startswith("/api/"):
        return Loaded(_short(url), error="a file on an Open WebUI server, not on this machine")
    return Loaded(_short(url), error="not a data URL or a local file: nothing to show")


def _from_data_url(url: str, most: int) -> Loaded:
    match = _DATA_URL.match(url)
    if match is None:
        return Loaded("data: URL", error="malformed data URL (expected data:TYPE;base64,…)")
    mime = (match.group(1) or "text/plain").lower()
    payload = url[match.end() :]
    size = len(payload) * 3 // 4 if match.group(3) else len(payload)
    where = f"data:{mime}"
    if size > most:
        return Loaded(where, mime, size=size, error=f"too large to show: {human_size(size)} (the most is {human_size(most)})")
    if not match.group(3):
        data = unquote(payload).encode()
        return Loaded(where, mime, data, len(data))
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return Loaded(where, mime, size=size, error="its base64 data is corrupt")
    return Loaded(where, mime, data, len(data))


def _from_path(path: Path, most: int) -> Loaded:
    where = str(path)
    mime = mimetypes.guess_type(path.name)[0] or ""
    try:
        size = path.stat().st_size
        if size > most:
            return Loaded(where, mime, size=size, error=f"too large to show: {human_size(size)} (the most is {human_size(most)})")
        return Loaded(where, mime, path.read_bytes(), size)
    except FileNotFoundError:
        return Loaded(where, mime, error="no such file on this machine")
    except OSError as error:
        return Loaded(where, mime, error=f"cannot read it: {error.strerror or error}")


def _short(url: str, most: int = 60) -> str:
    return url if len(url) <= most else url[: most - 1] + "…"


def human_size(size: int) -> str:
    """`512 B`, `12.3 KB`, `4.0 MB`."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def suffix_for(mime: str, name: str = "") -> str:
    """A file name's ending for saved media: the name's own, else one for its type."""
    own = Path(name).suffix
    if own:
        return own
    return {"image/jpeg": ".jpg"}.get(mime) or mimetypes.guess_extension(mime or "") or ".bin"
