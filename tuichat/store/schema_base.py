"""The base schema: v1, the tables as first released, and v2, their full-text search.

Released migrations are never edited (see schema.py): later changes are in schema_changes.py.
"""

from __future__ import annotations

from typing import Final

V1: Final = """
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
V2: Final = """
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
