"""Files and images attached to a message: read, checked and typed once, before anything is stored.

An `Attachment` is a snapshot: its bytes are read when it is made, so a file that changes or
vanishes afterwards does not change what is sent. Callers that attach early and send later (the
TUI) call `read_attachment` again at send time to pick up edits and to say clearly when the file
has gone.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

AttachmentKind = Literal["file", "image"]

MB = 1024 * 1024
# Open WebUI has no default upload limit; these keep a terminal session and the prompt sane
# (a 25 MB text file is already far past any context window).
FILE_SIZE_LIMIT = 25 * MB
IMAGE_SIZE_LIMIT = 20 * MB

# (magic prefix, content type, label): detection is by bytes, never by extension.
_IMAGE_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"GIF87a", "image/gif", "GIF"),
    (b"GIF89a", "image/gif", "GIF"),
)
SUPPORTED_IMAGES = "PNG, JPEG, GIF or WebP"
_SUPPORTED_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_SNIFF_BYTES = 16
# Control characters that legitimately appear in text files.
_TEXT_CONTROLS = frozenset("\t\n\r\f\v\x1b")


class AttachmentError(Exception):
    """An attachment that cannot be sent; the message names the file and says what to do."""


@dataclass(frozen=True)
class Attachment:
    path: Path
    name: str
    kind: AttachmentKind
    content_type: str
    size: int
    data: bytes
    # The decoded text of a "file" attachment (what the prompt gets); None for images.
    text: str | None = None
    # Something worth telling the user that is not an error (an image whose extension lies).
    note: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def data_url(self) -> str:
        """The `data:` URL Open WebUI's web page sends for an image."""
        encoded = base64.b64encode(self.data).decode("ascii")
        return f"data:{self.content_type};base64,{encoded}"


def format_size(size: int) -> str:
    """A byte count as people read it: 812 B, 3.4 KB, 25 MB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
    raise AssertionError("unreachable")


def image_type(head: bytes) -> tuple[str, str] | None:
    """(content type, label) of an image's first bytes, or None when it is no supported type."""
    for magic, content_type, label in _IMAGE_SIGNATURES:
        if head.startswith(magic):
            return content_type, label
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "WebP"
    return None


def read_attachment(path: Path, kind: AttachmentKind | None = None) -> Attachment:
    """Read `path` as an attachment of `kind` (None: an image if its bytes are one, else a file).

    Raises AttachmentError with a message fit to show as is.
    """
    path = Path(path).expanduser()
    size = _regular_file_size(path)
    head = _read_head(path)
    detected = image_type(head)
    if kind is None:
        kind = "image" if detected else "file"
    limit = IMAGE_SIZE_LIMIT if kind == "image" else FILE_SIZE_LIMIT
    if size > limit:
        raise AttachmentError(
            f"{path} is {format_size(size)}: over the {format_size(limit)} limit for "
            f"{'images' if kind == 'image' else 'files'}; attach a smaller one"
        )
    data = _read_bounded(path, limit)
    if kind == "image":
        return _image(path, data, detected)
    return _text_file(path, data, detected)


def _regular_file_size(path: Path) -> int:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AttachmentError(f"{path}: no such file (was it moved or deleted?)") from None
    except OSError as exc:
        raise AttachmentError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise AttachmentError(f"{path} is a folder: attach the files in it one by one")
    if not stat.S_ISREG(info.st_mode):
        raise AttachmentError(f"{path} is not a regular file (a device, pipe or socket)")
    return info.st_size


def _open(path: Path):
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise AttachmentError(f"{path}: no such file (was it moved or deleted?)") from None
    except PermissionError:
        raise AttachmentError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise AttachmentError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _read_head(path: Path) -> bytes:
    with _open(path) as handle:
        return _guarded_read(path, handle, _SNIFF_BYTES)


def _read_bounded(path: Path, limit: int) -> bytes:
    # Read at most limit + 1 bytes: a file that grew after stat() is caught without reading it whole.
    with _open(path) as handle:
        data = _guarded_read(path, handle, limit + 1)
    if len(data) > limit:
        raise AttachmentError(
            f"{path} grew past the {format_size(limit)} limit while being read; attach a smaller one"
        )
    return data


def _guarded_read(path: Path, handle, count: int) -> bytes:
    try:
        return handle.read(count)
    except OSError as exc:
        raise AttachmentError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _image(path: Path, data: bytes, detected: tuple[str, str] | None) -> Attachment:
    if detected is None:
        guessed = mimetypes.guess_type(path.name)[0] or ""
        if guessed.startswith("image/") and guessed not in _SUPPORTED_TYPES:
            raise AttachmentError(
                f"{path} is a {guessed} file: only {SUPPORTED_IMAGES} images can be attached "
                "(told by their first bytes); convert it to PNG"
            )
        raise AttachmentError(
            f"{path} is not an image: only {SUPPORTED_IMAGES} images can be attached, and its first "
            "bytes match none of them; convert it to PNG, or attach it as a file if it is text"
        )
    content_type, label = detected
    note = ""
    guessed = mimetypes.guess_type(path.name)[0]
    if guessed != content_type:
        note = f"{path.name} is a {label} image (its name says otherwise); sent as {content_type}"
    return Attachment(
        path=path,
        name=path.name,
        kind="image",
        content_type=content_type,
        size=len(data),
        data=data,
        note=note,
    )


def _text_file(path: Path, data: bytes, detected: tuple[str, str] | None) -> Attachment:
    if detected is not None:
        raise AttachmentError(
            f"{path} is a {detected[1]} image, not text: attach it as an image"
        )
    text = decode_text(data)
    if text is None:
        raise AttachmentError(
            f"{path} is a binary file ({format_size(len(data))}) that cannot be read as text: "
            "only text files (UTF-8, UTF-16 or Latin-1) can be attached; export it as text first"
        )
    content_type = mimetypes.guess_type(path.name)[0] or "text/plain"
    return Attachment(
        path=path,
        name=path.name,
        kind="file",
        content_type=content_type,
        size=len(data),
        data=data,
        text=text,
    )


def decode_text(data: bytes) -> str | None:
    """The text of `data`, or None when it is binary.

    UTF-8 first (a BOM is dropped), UTF-16 when it starts with its BOM, then Windows-1252 and
    Latin-1 for old files; NUL bytes or many control characters mean binary.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return None if _mostly_controls(text) else text
    return None


def _mostly_controls(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in _TEXT_CONTROLS)
    return controls * 10 > len(sample)


def describe(attachment: Attachment) -> str:
    """One line for a chip or a listing: name, kind and size."""
    return f"{attachment.name} ({attachment.content_type}, {format_size(attachment.size)})"


__all__ = [
    "FILE_SIZE_LIMIT",
    "IMAGE_SIZE_LIMIT",
    "Attachment",
    "AttachmentError",
    "AttachmentKind",
    "decode_text",
    "describe",
    "format_size",
    "image_type",
    "read_attachment",
]
