"""`scripts/screenshots.py` writes where it is told, and only `--update` touches the committed
screenshots/ the README shows (it used to overwrite them on every run)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("screenshots_script", ROOT / "scripts" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_output_folder_is_a_temporary_one_unless_named_or_updating(tmp_path: Path) -> None:
    shots = script()
    default = shots.output_folder(shots.parse_args([]))
    try:
        assert default.is_dir() and default != ROOT / "screenshots" and ROOT not in default.parents
        assert default.name.startswith("tuichat-screenshots-")
    finally:
        default.rmdir()
    named = shots.output_folder(shots.parse_args(["--out", str(tmp_path / "mine")]))
    assert named == tmp_path / "mine" and named.is_dir()
    assert shots.output_folder(shots.parse_args(["--update"])) == ROOT / "screenshots"


def test_out_and_update_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        script().parse_args(["--out", "x", "--update"])
    assert ended.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    assert "screenshots_script" not in sys.modules
