"""How large a source the pipe editor takes, and what it says about one that is larger.

Up to HIGHLIGHT_LIMIT a source is highlighted as Python; above it, it is plain text (tree-sitter
re-parses the whole source on every key). Up to MAX_EDIT_SIZE it opens (a 5 MB source opens in
about a second and types in well under a frame's worth of extra time: bench/editor_large.py);
above it, the editor says how to edit the pipe in the user's own editor, live-reloaded.
"""

from __future__ import annotations

from tuichat.store import FunctionRow

HIGHLIGHT_LIMIT = 256 * 1024  # characters; a larger source opens as plain text
MAX_EDIT_SIZE = 8 * 1024 * 1024  # characters; a larger source is edited in the user's own editor


def too_large(row: FunctionRow) -> str:
    """Why the editor does not open `row`, and how to edit it instead."""
    size = f"'{row.id}' is {describe_size(len(row.content))}: the editor opens sources up to {describe_size(MAX_EDIT_SIZE)}."
    if row.linked_path:
        return f"{size} It is linked to {row.linked_path}: edit that file in your own editor; each save reloads it."
    return (
        f"{size} Edit it in your own editor, live-reloaded on every save: "
        f"`tuichat pipes export {row.id} > {row.id}.py`, then `tuichat --watch {row.id}.py`."
    )


def describe_size(size: int) -> str:
    """`256 KB`, `1 MB`, `5.2 MB` (1024-based, as file managers say)."""
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"
