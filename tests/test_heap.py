"""Giving freed heap back to the system: glibc's malloc_trim, a no-op elsewhere."""

from __future__ import annotations

import platform

import pytest

from tuichat import heap


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_trim_returns_what_it_took_on_glibc() -> None:
    assert heap.available()
    took = heap.trim()
    assert took is not None and took >= 0


def test_trim_is_a_no_op_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap.platform, "libc_ver", lambda: ("", ""))
    monkeypatch.setattr(heap, "_loaded", False)
    monkeypatch.setattr(heap, "_trim", None)
    assert heap.available() is False
    assert heap.trim() is None
