"""The layer rules in pyproject.toml ([tool.importlinter]) hold: checked on every run."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold(capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert code == 0, capsys.readouterr().out


def test_a_broken_rule_is_caught(tmp_path, capsys, monkeypatch) -> None:
    """The check can fail: a contract that the code breaks is reported."""
    monkeypatch.chdir(ROOT)
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "tuichat"\ninclude_external_packages = true\n'
        '[[tool.importlinter.contracts]]\nname = "ui without textual (false)"\ntype = "forbidden"\n'
        'source_modules = ["tuichat.ui"]\nforbidden_modules = ["textual"]\n'
    )
    assert lint_imports(config_filename=str(config), no_cache=True, no_logo=True) == 1
    assert "tuichat.ui is not allowed to import textual" in capsys.readouterr().out
