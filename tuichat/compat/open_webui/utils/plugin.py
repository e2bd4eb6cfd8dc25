"""`open_webui.utils.plugin`: the frontmatter and import rewriting pipes reuse (spec §2.4, §3.1).

Open WebUI's own algorithms, unchanged: `extract_frontmatter` reads the `key: value`
lines of a leading triple-quoted block; `replace_imports` is a plain text replace of
`from utils` / `from apps` / `from main` / `from config`. Loading modules is tuichat's
job (its runtime), not a stand-in's.
"""

from __future__ import annotations

import re

from tuichat.compat._names import module_getattr

__all__ = ["extract_frontmatter", "replace_imports"]

_LINE = re.compile(r"^\s*([a-z_]+):\s*(.*)\s*$", re.IGNORECASE)
_REPLACEMENTS = {
    "from utils": "from open_webui.utils",
    "from apps": "from open_webui.apps",
    "from main": "from open_webui.main",
    "from config": "from open_webui.config",
}


def extract_frontmatter(content: str) -> dict[str, str]:
    frontmatter: dict[str, str] = {}
    try:
        lines = content.splitlines()
        if not lines or lines[0].strip() != '"""':
            return {}
        for line in lines[1:]:
            if '"""' in line:
                break
            match = _LINE.match(line)
            if match:
                frontmatter[match.group(1)] = match.group(2).strip()
    except Exception:
        return {}
    return frontmatter


def replace_imports(content: str) -> str:
    for old, new in _REPLACEMENTS.items():
        content = content.replace(old, new)
    return content


__getattr__ = module_getattr(__name__)
