"""The database schema, as forward-only migrations keyed on `PRAGMA user_version`.

`MIGRATIONS[n]` takes a database from version n to n + 1. Never edit a released
script: append a new one. Scripts are run statement by statement inside the
caller's transaction (see `statements`), so they must not contain BEGIN/COMMIT.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Final

_V1: Final = """
-- Open WebUI's `function` table, plus `load_error` for the last load failure.
CREATE TABLE function (
    id          TEXT PRIMARY KEY,
    user_id     TEXT,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('pipe', 'filter', 'action')),
    content     TEXT NOT NULL,
    meta        TEXT NOT NULL,
    valves      TEXT NOT NULL DEFAULT '{}',
    is_active   INTEGER NOT NULL DEFAULT 1,
    is_global   INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER,
    updated_at  INTEGER,
    load_error  TEXT
);

CREATE TABLE function_user_valves (
    function_id TEXT NOT NULL REFERENCES function (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    valves      TEXT NOT NULL DEFAULT '{}',
    updated_at  INTEGER,
    PRIMARY KEY (function_id, user_id)
);

-- The single local user, shaped like Open WebUI's UserModel.
CREATE TABLE user (
    id                       TEXT PRIMARY KEY,
    email                    TEXT NOT NULL,
    username                 TEXT,
    role                     TEXT NOT NULL,
    name                     TEXT NOT NULL,
    profile_image_url        TEXT,
    profile_banner_image_url TEXT,
    bio                      TEXT,
    gender                   TEXT,
    date_of_birth            TEXT,
    timezone                 TEXT,
    presence_state           TEXT,
    status_emoji             TEXT,
    status_message           TEXT,
    status_expires_at        INTEGER,
    info                     TEXT,
    settings                 TEXT,
    oauth                    TEXT,
    scim                     TEXT,
    last_active_at           INTEGER NOT NULL,
    updated_at               INTEGER NOT NULL,
    created_at               INTEGER NOT NULL
);

CREATE TABLE chat (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    model_id      TEXT,
    system_prompt TEXT,
    stream        INTEGER NOT NULL DEFAULT 1,
    params        TEXT NOT NULL DEFAULT '{}',
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE INDEX chat_by_updated ON chat (updated_at);

CREATE TABLE message (
    id         TEXT PRIMARY KEY,
    chat_id    TEXT NOT NULL REFERENCES chat (id) ON DELETE CASCADE,
    parent_id  TEXT REFERENCES message (id) ON DELETE SET NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content    TEXT NOT NULL DEFAULT '',
    model_id   TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    status     TEXT NOT NULL
               CHECK (status IN ('streaming', 'done', 'stopped', 'error')),
    error      TEXT,
    reasoning  TEXT,
    usage      TEXT,
    extra      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX message_by_chat ON message (chat_id, created_at);
-- Without it every deleted message scans the table to null its children's parent_id.
CREATE INDEX message_by_parent ON message (parent_id);

-- `at` is seconds since the request started; `data` is one trace step as JSON.
CREATE TABLE message_event (
    message_id TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         REAL NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;

CREATE TABLE setting (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

# Full-text search over message text and chat titles.
#
# External-content FTS5 tables: the index holds only tokens, and the text is read
# back from `message` / `chat` by rowid when a hit needs a snippet. A content-less
# table (content='') would save nothing more, since neither stores a second copy
# of the text, but it cannot give snippets at all.
#
# The index is keyed on the implicit rowids of `message` and `chat`. VACUUM may
# renumber those (neither table has an INTEGER PRIMARY KEY), so anything that
# runs VACUUM must run `INSERT INTO t(t) VALUES ('rebuild')` on both tables after.
#
# A streaming reply is saved about once a second and would be re-tokenised, whole,
# at every save; instead it is indexed once, when its status leaves 'streaming'.
# The FTS content is the `searchable_message` view, so the index and its content
# agree row for row: 'rebuild' and 'integrity-check' stay correct.
#
# Each trigger's statements run in order, so an update first removes the old
# tokens and then adds the new ones (separate triggers fire in no defined order).
_V2: Final = """
CREATE VIEW searchable_message AS
    SELECT rowid AS message_rowid, content FROM message WHERE status <> 'streaming';

CREATE VIRTUAL TABLE message_search USING fts5(
    content,
    content = 'searchable_message',
    content_rowid = 'message_rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER message_search_insert AFTER INSERT ON message
WHEN new.status <> 'streaming'
BEGIN
    INSERT INTO message_search (rowid, content) VALUES (new.rowid, new.content);
END;

CREATE TRIGGER message_search_delete AFTER DELETE ON message
WHEN old.status <> 'streaming'
BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    VALUES ('delete', old.rowid, old.content);
END;

CREATE TRIGGER message_search_update AFTER UPDATE OF content, status ON message
WHEN old.content IS NOT new.content
    OR (old.status = 'streaming') IS NOT (new.status = 'streaming')
BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', old.rowid, old.content WHERE old.status <> 'streaming';
    INSERT INTO message_search (rowid, content)
    SELECT new.rowid, new.content WHERE new.status <> 'streaming';
END;

CREATE VIRTUAL TABLE chat_search USING fts5(
    title,
    content = 'chat',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER chat_search_insert AFTER INSERT ON chat
BEGIN
    INSERT INTO chat_search (rowid, title) VALUES (new.rowid, new.title);
END;

CREATE TRIGGER chat_search_delete AFTER DELETE ON chat
BEGIN
    INSERT INTO chat_search (chat_search, rowid, title)
    VALUES ('delete', old.rowid, old.title);
END;

CREATE TRIGGER chat_search_update AFTER UPDATE OF title ON chat
WHEN old.title IS NOT new.title
BEGIN
    INSERT INTO chat_search (chat_search, rowid, title)
    VALUES ('delete', old.rowid, old.title);
    INSERT INTO chat_search (rowid, title) VALUES (new.rowid, new.title);
END;

-- Index what a v1 database already holds.
INSERT INTO message_search (message_search) VALUES ('rebuild');
INSERT INTO chat_search (chat_search) VALUES ('rebuild');
"""

# Every source a function has had, so an edit is never a loss: each save (kept or
# refused with its `error`), import, restore and watched-file change adds a row.
# `linked_path` is a file on disk the function is kept in step with (live reload).
_V3: Final = """
CREATE TABLE function_version (
    id          INTEGER PRIMARY KEY,
    function_id TEXT NOT NULL REFERENCES function (id) ON DELETE CASCADE,
    content     TEXT NOT NULL,
    origin      TEXT NOT NULL,
    error       TEXT,
    created_at  REAL NOT NULL
);

CREATE INDEX function_version_by_function ON function_version (function_id, id);

ALTER TABLE function ADD COLUMN linked_path TEXT;

-- What a v2 database holds becomes each function's first version.
INSERT INTO function_version (function_id, content, origin, created_at)
SELECT id, content, 'stored', coalesce(updated_at, CAST(strftime('%s', 'now') AS INTEGER)) FROM function ORDER BY rowid;
"""

# A reply whose process ended before it did (killed, crashed, its terminal hung up) is
# 'interrupted', and a streaming reply names the process writing it (`writer`: JSON with
# its pid, start time, boot id and host; see tuichat.store.writers), so start-up can tell a
# reply left behind by a dead process from one a live process is still writing.
#
# SQLite cannot change a CHECK constraint in place, so `message` is rebuilt: foreign keys
# are off while migrations run (Database._migrate), so dropping the old table neither
# deletes its events nor nulls parent ids, and every rowid is kept, as the search index is
# keyed on them. The view, indexes and triggers on the old table go with it and are made
# again as v2 made them.
_V4: Final = """
DROP VIEW searchable_message;

CREATE TABLE message_v4 (
    id         TEXT PRIMARY KEY,
    chat_id    TEXT NOT NULL REFERENCES chat (id) ON DELETE CASCADE,
    parent_id  TEXT REFERENCES message (id) ON DELETE SET NULL,
    role       TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content    TEXT NOT NULL DEFAULT '',
    model_id   TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    status     TEXT NOT NULL
               CHECK (status IN ('streaming', 'done', 'stopped', 'error', 'interrupted')),
    error      TEXT,
    reasoning  TEXT,
    usage      TEXT,
    extra      TEXT NOT NULL DEFAULT '{}',
    writer     TEXT
);

INSERT INTO message_v4 (rowid, id, chat_id, parent_id, role, content, model_id, created_at,
                        updated_at, status, error, reasoning, usage, extra)
SELECT rowid, id, chat_id, parent_id, role, content, model_id, created_at,
       updated_at, status, error, reasoning, usage, extra
FROM message ORDER BY rowid;

DROP TABLE message;
ALTER TABLE message_v4 RENAME TO message;

CREATE INDEX message_by_chat ON message (chat_id, created_at);
CREATE INDEX message_by_parent ON message (parent_id);
-- Start-up looks for replies left streaming: only those rows are in this index.
CREATE INDEX message_streaming ON message (id) WHERE status = 'streaming';

CREATE VIEW searchable_message AS
    SELECT rowid AS message_rowid, content FROM message WHERE status <> 'streaming';

CREATE TRIGGER message_search_insert AFTER INSERT ON message
WHEN new.status <> 'streaming'
BEGIN
    INSERT INTO message_search (rowid, content) VALUES (new.rowid, new.content);
END;

CREATE TRIGGER message_search_delete AFTER DELETE ON message
WHEN old.status <> 'streaming'
BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    VALUES ('delete', old.rowid, old.content);
END;

CREATE TRIGGER message_search_update AFTER UPDATE OF content, status ON message
WHEN old.content IS NOT new.content
    OR (old.status = 'streaming') IS NOT (new.status = 'streaming')
BEGIN
    INSERT INTO message_search (message_search, rowid, content)
    SELECT 'delete', old.rowid, old.content WHERE old.status <> 'streaming';
    INSERT INTO message_search (rowid, content)
    SELECT new.rowid, new.content WHERE new.status <> 'streaming';
END;
"""

# v5: Open WebUI's model settings row (`model` table): what an admin saves for a model
# (the pipe's filters in meta.filterIds, tools in meta.toolIds, params), kept as given.
_V5: Final = """
CREATE TABLE model (
    id            TEXT PRIMARY KEY,
    base_model_id TEXT,
    name          TEXT NOT NULL DEFAULT '',
    meta          TEXT NOT NULL DEFAULT '{}',
    params        TEXT NOT NULL DEFAULT '{}',
    is_active     INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
"""

# v6: a chat's tags, as Open WebUI keeps them (chat.meta.tags holds tag ids, the tag table
# their names): the id is the name with spaces as underscores, lower-cased.
_V6: Final = """
CREATE TABLE chat_tag (
    chat_id TEXT NOT NULL REFERENCES chat (id) ON DELETE CASCADE,
    tag_id  TEXT NOT NULL,
    name    TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (chat_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX chat_tag_by_tag ON chat_tag (tag_id);
"""

# v7: tools (`class Tools` modules, Open WebUI's tool store) are kept as functions of type
# 'tool': loaded, versioned, linked, edited and given valves the same way. The table is rebuilt
# to widen its CHECK (foreign keys are off while migrations run: see _V4), rowids kept.
_V7: Final = """
CREATE TABLE function_v7 (
    id          TEXT PRIMARY KEY,
    user_id     TEXT,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('pipe', 'filter', 'action', 'tool')),
    content     TEXT NOT NULL,
    meta        TEXT NOT NULL,
    valves      TEXT NOT NULL DEFAULT '{}',
    is_active   INTEGER NOT NULL DEFAULT 1,
    is_global   INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER,
    updated_at  INTEGER,
    load_error  TEXT,
    linked_path TEXT
);
INSERT INTO function_v7 (rowid, id, user_id, name, type, content, meta, valves, is_active, is_global,
                         created_at, updated_at, load_error, linked_path)
SELECT rowid, id, user_id, name, type, content, meta, valves, is_active, is_global,
       created_at, updated_at, load_error, linked_path
FROM function ORDER BY rowid;
DROP TABLE function;
ALTER TABLE function_v7 RENAME TO function;
"""

# v8: a chat is a tree of messages (Open WebUI's `history`): regenerate and edit-and-resend add
# siblings, and `current_id` is the leaf of the branch the chat shows and continues. Messages
# stored without a parent (by older versions, or scripts) get the one before them as parent.
_V8: Final = """
ALTER TABLE chat ADD COLUMN current_id TEXT;
UPDATE message SET parent_id = (
    SELECT earlier.id FROM message AS earlier
    WHERE earlier.chat_id = message.chat_id
      AND (earlier.created_at, earlier.rowid) < (message.created_at, message.rowid)
    ORDER BY earlier.created_at DESC, earlier.rowid DESC LIMIT 1
) WHERE parent_id IS NULL;
"""

# v9: the toggle filters switched on in a chat (Open WebUI's `filter_ids`, per chat), a JSON list.
_V9: Final = """
ALTER TABLE chat ADD COLUMN filter_ids TEXT NOT NULL DEFAULT '[]';
"""


# v10: events move to a rowid table. In a WITHOUT ROWID table a row is its own b-tree key, and
# SQLite compares a key that spills onto overflow pages by reading the whole row: one large
# event (a call record whose body holds a 5 MB reply of the history) made every insert of
# the reply whose id sorts next to it read those 5 MB, so 10,000 events took a minute with
# the write lock held. Now the index holds only (message_id, seq) and the rowid, and the
# data lives in the table keyed by that integer, never compared.
_V10: Final = """
CREATE TABLE message_event_v10 (
    id         INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES message (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         REAL NOT NULL,
    data       TEXT NOT NULL
);

INSERT INTO message_event_v10 (message_id, seq, at, data)
SELECT message_id, seq, at, data FROM message_event ORDER BY message_id, seq;

DROP TABLE message_event;

ALTER TABLE message_event_v10 RENAME TO message_event;

CREATE UNIQUE INDEX message_event_by_message ON message_event (message_id, seq);
"""

# Where a chat was started: 'app' (the chat app) or 'run' (`tuichat run`), so that scripted
# runs can be listed apart and never bury the chats a user had. Chats stored before this
# version cannot be told apart and count as the app's.
_V11: Final = """
ALTER TABLE chat ADD COLUMN origin TEXT NOT NULL DEFAULT 'app' CHECK (origin IN ('app', 'run'));
"""

# v12: attachments. `file` is Open WebUI's file row (id, user_id, hash, filename, path, data
# {content}, meta {name, content_type, size, file_hash, data}), plus the chat it was sent in, so
# deleting the chat deletes its rows (and `ChatRepo.delete` its copies under files/). A user
# message keeps its attached items in `files` (a JSON list, Open WebUI's message `files`).
_V12: Final = """
CREATE TABLE file (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    chat_id    TEXT REFERENCES chat (id) ON DELETE CASCADE,
    hash       TEXT,
    filename   TEXT NOT NULL,
    path       TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    meta       TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX file_by_chat ON file (chat_id);
ALTER TABLE message ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
"""

# v13: the tools selected in a chat (Open WebUI's `tool_ids`, per chat), a JSON list like v9's.
_V13: Final = """
ALTER TABLE chat ADD COLUMN tool_ids TEXT NOT NULL DEFAULT '[]';
"""

MIGRATIONS: Final[tuple[str, ...]] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12, _V13)
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
