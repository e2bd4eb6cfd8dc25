"""Full-text search over message text and chat titles (the FTS5 tables of schema v2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tuichat.store.database import Database
from tuichat.store.tags import tag_id

# Marks around the matched words in `SearchHit.snippet`: control characters, which
# chat text practically never holds, so a front end can split on them safely.
MATCH_START: Final = "\x02"
MATCH_END: Final = "\x03"
_SNIPPET_TOKENS: Final = 16  # words of context in a snippet
# A word to FTS5's unicode61 tokenizer: a letter or digit (`_` separates words).
_HAS_WORD: Final = re.compile(r"[^\W_]")
_MARKS: Final = re.compile(f"({MATCH_START}.*?{MATCH_END})", re.DOTALL)
_TAG_WORD: Final = re.compile(r"(?<!\S)tag:(\S+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SearchHit:
    chat_id: str
    chat_title: str
    message_id: str | None  # None when the hit is the chat's title
    snippet: str  # the text around the match, matches between MATCH_START/MATCH_END
    rank: float  # FTS5 bm25: lower is better

    def parts(self) -> list[tuple[str, bool]]:
        """The snippet as (text, is_match) pieces, without the marks."""
        pieces = _MARKS.split(self.snippet)
        return [
            (piece[1:-1], True) if _MARKS.fullmatch(piece) else (piece, False)
            for piece in pieces
            if piece
        ]


async def search(db: Database, query: str, limit: int) -> list[SearchHit]:
    """Messages and chat titles matching every word of `query`, best match first
    (then newest). Any text is a valid query: words are matched literally, never
    as FTS5 syntax, and the last word also matches as a prefix (search as you type).
    `tag:NAME` keeps to the chats with that tag; alone, it lists them, newest first.
    """
    tags = [tag_id(name) for name in _TAG_WORD.findall(query)]
    if not tags:
        return await _text_search(db, query, limit)
    tagged = await _tagged_chats(db, tags)
    words = _TAG_WORD.sub(" ", query).strip()
    if not words:
        shown = " ".join(f"{MATCH_START}#{name}{MATCH_END}" for name in _TAG_WORD.findall(query))
        return [SearchHit(chat_id, title, None, shown, 0.0) for chat_id, title in tagged[:limit]]
    chats = {chat_id for chat_id, _ in tagged}
    # Text hits outside the tagged chats are dropped: ask for more, so enough remain.
    return [hit for hit in await _text_search(db, words, limit * 4) if hit.chat_id in chats][:limit]


async def _tagged_chats(db: Database, tags: list[str]) -> list[tuple[str, str]]:
    """(id, title) of the chats that have every one of `tags`, newest first."""
    marks = ",".join("?" * len(tags))
    rows = await db.fetchall(
        f"SELECT chat.id, chat.title FROM chat JOIN chat_tag ON chat_tag.chat_id = chat.id"
        f" WHERE chat_tag.tag_id IN ({marks}) GROUP BY chat.id HAVING count(DISTINCT chat_tag.tag_id) = ?"
        f" ORDER BY chat.updated_at DESC",
        (*tags, len(set(tags))),
    )
    return [(row["id"], row["title"]) for row in rows]


async def _text_search(db: Database, query: str, limit: int) -> list[SearchHit]:
    match = match_expression(query)
    if match is None or limit <= 0:
        return []
    rows = await db.fetchall(
        _SEARCH_SQL,
        {
            "match": match,
            "limit": limit,
            "start": MATCH_START,
            "end": MATCH_END,
            "tokens": _SNIPPET_TOKENS,
        },
    )
    return [
        SearchHit(
            chat_id=row["chat_id"],
            chat_title=row["chat_title"],
            message_id=row["message_id"],
            snippet=row["snippet"],
            rank=row["rank"],
        )
        for row in rows
    ]


# Each side keeps its own best `limit` hits, in the final order, before the merge:
# nothing past them could make the cut. `rank` is bm25(): lower is better.
# The two sides' scores are merged as they are, though each is computed over its own
# table: a title is short, so a title hit tends to rank above a message hit.
_SEARCH_SQL: Final = """
SELECT * FROM (
    SELECT chat.id AS chat_id, chat.title AS chat_title, message.id AS message_id,
           snippet(message_search, 0, :start, :end, '…', :tokens) AS snippet,
           message_search.rank AS rank, message.created_at AS at
    FROM message_search
    JOIN message ON message.rowid = message_search.rowid
    JOIN chat ON chat.id = message.chat_id
    WHERE message_search MATCH :match
    ORDER BY message_search.rank, message.created_at DESC
    LIMIT :limit
)
UNION ALL
SELECT * FROM (
    SELECT chat.id, chat.title, NULL,
           snippet(chat_search, 0, :start, :end, '…', :tokens),
           chat_search.rank, chat.updated_at
    FROM chat_search
    JOIN chat ON chat.rowid = chat_search.rowid
    WHERE chat_search MATCH :match
    ORDER BY chat_search.rank, chat.updated_at DESC
    LIMIT :limit
)
ORDER BY rank, at DESC
LIMIT :limit
"""


def match_expression(query: str) -> str | None:
    """`query` as an FTS5 MATCH expression that means its words, literally.

    Each whitespace-separated chunk becomes a quoted string (inner quotes doubled),
    so `"`, `*`, `-`, `:`, `^`, parentheses and the words AND/OR/NOT/NEAR are plain
    text; the tokenizer then splits a chunk such as `e-mail` into a phrase. Chunks
    with no letter or digit are dropped: as empty phrases they would match nothing.
    The last chunk is a prefix (`"wor"*`). None when nothing is left to search for.
    """
    chunks = [chunk for chunk in query.split() if _HAS_WORD.search(chunk)]
    if not chunks:
        return None
    phrases = ['"' + chunk.replace('"', '""') + '"' for chunk in chunks]
    phrases[-1] += "*"
    return " ".join(phrases)
