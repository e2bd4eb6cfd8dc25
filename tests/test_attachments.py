"""Reading attachments: real files of every kind, the limits and every refusal's message."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest

from tests.images import JPEG, png
from tuichat.runtime import attachments
from tuichat.runtime.attachments import (
    FILE_SIZE_LIMIT,
    AttachmentError,
    decode_text,
    format_size,
    read_attachment,
)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_text_file(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.txt", "The secret code is 4711.\n")
    found = read_attachment(path)
    assert (found.kind, found.name, found.content_type) == ("file", "notes.txt", "text/plain")
    assert found.text == "The secret code is 4711.\n"
    assert found.size == 25
    assert found.sha256 == hashlib.sha256(b"The secret code is 4711.\n").hexdigest()


def test_markdown_file_keeps_its_text_verbatim(tmp_path: Path) -> None:
    body = "# Plan\n\n- [ ] ship **it**\n\n```py\nprint(1)\n```\n"
    found = read_attachment(write(tmp_path, "plan.md", body), "file")
    assert found.content_type == "text/markdown"
    assert found.text == body


def test_png_and_jpeg_images(tmp_path: Path) -> None:
    image = read_attachment(write(tmp_path, "dot.png", png()))
    assert (image.kind, image.content_type, image.text, image.note) == ("image", "image/png", None, "")
    assert image.data_url == "data:image/png;base64," + base64.b64encode(png()).decode()
    photo = read_attachment(write(tmp_path, "photo.jpg", JPEG), "image")
    assert (photo.kind, photo.content_type, photo.size) == ("image", "image/jpeg", len(JPEG))


def test_gif_and_webp_detected_by_bytes(tmp_path: Path) -> None:
    gif = read_attachment(write(tmp_path, "a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
    webp = read_attachment(write(tmp_path, "a.webp", b"RIFF\x1a\x00\x00\x00WEBPVP8L" + bytes(14)))
    assert (gif.content_type, webp.content_type) == ("image/gif", "image/webp")


def test_image_with_a_wrong_extension_goes_by_its_bytes(tmp_path: Path) -> None:
    found = read_attachment(write(tmp_path, "really-a-jpeg.png", JPEG), "image")
    assert found.content_type == "image/jpeg"
    assert "is a JPEG image" in found.note


def test_text_as_image_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match="fake.png is not an image: only PNG, JPEG, GIF or WebP images"):
        read_attachment(write(tmp_path, "fake.png", "not a picture"), "image")


def test_svg_as_image_names_its_type(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match="image/svg\\+xml file: only PNG"):
        read_attachment(write(tmp_path, "logo.svg", "<svg/>"), "image")


def test_image_as_file_says_attach_it_as_an_image(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match="is a PNG image, not text: attach it as an image"):
        read_attachment(write(tmp_path, "dot.png", png()), "file")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "program.bin", bytes(range(256)) * 4)
    with pytest.raises(AttachmentError, match="program.bin is a binary file .* cannot be read as text"):
        read_attachment(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(AttachmentError, match="gone.txt: no such file"):
        read_attachment(tmp_path / "gone.txt")
    with pytest.raises(AttachmentError, match="is a folder"):
        read_attachment(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.txt", "x")
    path.chmod(0)
    with pytest.raises(AttachmentError, match="secret.txt: permission denied"):
        read_attachment(path)


def test_file_that_vanished_after_it_was_read(tmp_path: Path) -> None:
    """The attachment is a snapshot; reading it again at send time says the file has gone."""
    path = write(tmp_path, "notes.txt", "kept\n")
    found = read_attachment(path)
    path.unlink()
    assert found.text == "kept\n"
    with pytest.raises(AttachmentError, match="notes.txt: no such file \\(was it moved or deleted\\?\\)"):
        read_attachment(path)


def test_100_mb_file_is_refused_from_its_size_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.log"
    with path.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: no 100 MB written to disk
    read_sizes: list[int] = []
    real_open = Path.open

    def spying_open(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real_open(self, *args, **kwargs)
        real_read = handle.read

        def read(count: int = -1) -> bytes:
            data = real_read(count)
            read_sizes.append(len(data))
            return data

        handle.read = read
        return handle

    monkeypatch.setattr(Path, "open", spying_open)
    with pytest.raises(AttachmentError) as refused:
        read_attachment(path)
    assert str(refused.value) == (
        f"{path} is 100 MB: over the 25 MB limit for files; attach a smaller one"
    )
    assert sum(read_sizes) <= 16


def test_image_limit_is_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "IMAGE_SIZE_LIMIT", 100)
    path = write(tmp_path, "big.png", png(40, 40, (1, 2, 3)) + bytes(200))
    with pytest.raises(AttachmentError, match="big.png is .* over the 100 B limit for images"):
        read_attachment(path)


def test_file_at_the_limit_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attachments, "FILE_SIZE_LIMIT", 10)
    assert read_attachment(write(tmp_path, "ten.txt", "0123456789")).size == 10
    with pytest.raises(AttachmentError, match="over the 10 B limit"):
        read_attachment(write(tmp_path, "eleven.txt", "0123456789a"))


def test_text_decodings() -> None:
    assert decode_text("héllo".encode()) == "héllo"
    assert decode_text("\ufeffbom".encode()) == "bom"
    assert decode_text("wide".encode("utf-16")) == "wide"
    assert decode_text("caf\xe9 \u20ac".encode("cp1252")) == "caf\xe9 \u20ac"
    assert decode_text(b"\x81\x8d legacy") == "\x81\x8d legacy"  # Latin-1 takes what cp1252 lacks
    assert decode_text(b"") == ""
    assert decode_text(b"a\x00b") is None
    assert decode_text(bytes(range(1, 32)) * 10) is None


def test_sizes_read_as_people_read_them() -> None:
    assert [format_size(n) for n in (0, 812, 2048, 3500, FILE_SIZE_LIMIT, 3 * 1024**3)] == [
        "0 B",
        "812 B",
        "2 KB",
        "3.4 KB",
        "25 MB",
        "3 GB",
    ]


def test_stream_read_errors_are_attachment_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "flaky.txt", "x")

    class Failing(io.BytesIO):
        def read(self, *args: object) -> bytes:
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(Path, "open", lambda self, *a, **k: Failing())
    with pytest.raises(AttachmentError, match="flaky.txt: cannot be read \\(Input/output error\\)"):
        read_attachment(path)
