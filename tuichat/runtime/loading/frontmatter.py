"""Frontmatter parsing and import rewriting, exactly as Open WebUI 0.12.4 does them (spec §2.4, §3.1)."""

from __future__ import annotations

import re

_FRONTMATTER_LINE = re.compile(r"^\s*([a-z_]+):\s*(.*)\s*$", re.IGNORECASE)

# Plain substring rules over the whole text (code, comments and strings alike), in
# Open WebUI's order; the lack of word boundaries is deliberate fidelity.
_IMPORT_REWRITES = (
    ("from utils", "from open_webui.utils"),
    ("from apps", "from open_webui.apps"),
    ("from main", "from open_webui.main"),
    ("from config", "from open_webui.config"),
)


def extract_frontmatter(content: str) -> dict[str, str]:
    """The `key: value` lines of a leading triple-quoted block, as plain strings."""
    try:
        lines = content.splitlines()
        if not lines or lines[0].strip() != '"""':
            return {}
        frontmatter: dict[str, str] = {}
        for line in lines[1:]:
            if '"""' in line:
                break
            match = _FRONTMATTER_LINE.match(line)
            if match:
                key, value = match.groups()
                frontmatter[key.strip()] = value.strip()
        return frontmatter
    except Exception:
        return {}


def replace_imports(content: str) -> str:
    for old, new in _IMPORT_REWRITES:
        content = content.replace(old, new)
    return content


def parse_requirements(requirements: str) -> list[str]:
    """Split a frontmatter `requirements` value the way Open WebUI does (comma-separated)."""
    return [item.strip() for item in requirements.split(",") if item.strip()]
