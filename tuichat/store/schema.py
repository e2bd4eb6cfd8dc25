"""The database schema, as forward-only migrations keyed on `PRAGMA user_version`.

`MIGRATIONS[n]` takes a database from version n to n + 1: the base schema (schema_base.py),
then every change since (schema_changes.py). Never edit a released script: append a new
one. Scripts are run statement by statement inside the caller's transaction (see
`statements`), so they must not contain BEGIN/COMMIT.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Final

from tuichat.store.schema_base import V1, V2
from tuichat.store.schema_changes import V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13

MIGRATIONS: Final[tuple[str, ...]] = (V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def statements(script: str) -> Iterator[str]:
    """Split a script into single statements.

    sqlite3's `executescript` would COMMIT our open transaction first, breaking the
    all-or-nothing migration, so scripts are run one statement at a time instead.
    A ';' only ends a statement where `complete_statement` agrees, so semicolons in
    quotes, comments and trigger bodies are kept.
    """
    *pieces, tail = script.split(";")
    pending = ""
    for piece in pieces:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if not _only_comments(pending + tail):
        raise ValueError(
            f"Incomplete SQL statement at the end of a migration: {pending + tail!r}"
        )


def _only_comments(text: str) -> bool:
    return all(
        not line.strip() or line.strip().startswith("--") for line in text.splitlines()
    )
