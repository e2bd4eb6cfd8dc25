"""A chat's tags (schema v6), as Open WebUI's background task stores them: each call
replaces the chat's tags; a tag is found by its id (its name with spaces as underscores,
lower-cased), so "Web Dev" and "web dev" are one tag."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from tuichat.store.database import Database

_MANY = 900  # chat ids bound in one query at most


def tag_id(name: str) -> str:
    return name.replace(" ", "_").lower()


class TagRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set(self, chat_id: str, names: Sequence[str]) -> builtins.list[str]:
        """Replace the chat's tags with `names` (the first of names with one id wins);
        the names kept, in order."""
        kept: dict[str, str] = {}
        for name in names:
            if not isinstance(name, str) or not name.strip():
                raise ValueError(f"a tag must be non-empty text, not {name!r}")
            kept.setdefault(tag_id(name), name)
        async with self._db.transaction():
            await self._db.execute("DELETE FROM chat_tag WHERE chat_id = ?", (chat_id,))
            for seq, (tid, name) in enumerate(kept.items()):
                await self._db.execute(
                    "INSERT INTO chat_tag (chat_id, tag_id, name, seq) VALUES (?, ?, ?, ?)", (chat_id, tid, name, seq)
                )
        return list(kept.values())

    async def of(self, chat_id: str) -> builtins.list[str]:
        rows = await self._db.fetchall("SELECT name FROM chat_tag WHERE chat_id = ? ORDER BY seq", (chat_id,))
        return [row["name"] for row in rows]

    async def of_chats(self, chat_ids: Sequence[str]) -> dict[str, builtins.list[str]]:
        """Tags of many chats at once (the chat list), by chat id; chats without tags left out."""
        if not chat_ids:
            return {}
        if len(chat_ids) > _MANY:  # past SQLite's limit on bound values: read them all
            rows = await self._db.fetchall("SELECT chat_id, name FROM chat_tag ORDER BY chat_id, seq")
        else:
            marks = ",".join("?" * len(chat_ids))
            rows = await self._db.fetchall(
                f"SELECT chat_id, name FROM chat_tag WHERE chat_id IN ({marks}) ORDER BY chat_id, seq", tuple(chat_ids)
            )
        wanted = set(chat_ids)
        tags: dict[str, builtins.list[str]] = {}
        for row in rows:
            if row["chat_id"] in wanted:
                tags.setdefault(row["chat_id"], []).append(row["name"])
        return tags

    async def chats_with(self, name: str) -> builtins.list[str]:
        """Ids of the chats tagged `name` (any spelling of its id), newest first."""
        rows = await self._db.fetchall(
            "SELECT chat_tag.chat_id FROM chat_tag JOIN chat ON chat.id = chat_tag.chat_id"
            " WHERE tag_id = ? ORDER BY chat.updated_at DESC",
            (tag_id(name),),
        )
        return [row["chat_id"] for row in rows]

    async def all(self) -> builtins.list[tuple[str, int]]:
        """Every tag in use, with how many chats have it, most used first."""
        rows = await self._db.fetchall(
            "SELECT min(name) AS name, count(*) AS n FROM chat_tag GROUP BY tag_id ORDER BY n DESC, name"
        )
        return [(row["name"], row["n"]) for row in rows]
