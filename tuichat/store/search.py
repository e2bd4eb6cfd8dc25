"""Full-text search over message text and chat titles (the FTS5 tables of schema v2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tuichat.store.database import Database

# Marks around the matched words in `SearchHit.snippet`: control characters, which
# chat text practically never holds, so a front end can split on them safely.
MATCH_START: Final = "\x02"
MATCH_END: Final = "\x03"
_SNIPPET_TOKENS: Final = 16  # words of context in a snippet
# A word to FTS5's unicode61 tokenizer: a letter or digit (`_` separates words).
_HAS_WORD: Final = re.compile(r"[^\W_]")
_MARKS: Final = re.compile(f"({MATCH_START}.*?{MATCH_END})", re.DOTALL)


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
    """
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
