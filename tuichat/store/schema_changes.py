"""Every change to the schema since the base (v3 to v13), each with why it was made.

Released migrations are never edited (see schema.py): a change is a new script at the end.
"""

from __future__ import annotations

from typing import Final

# Every source a function has had, so an edit is never a loss: each save (kept or
# refused with its `error`), import, restore and watched-file change adds a row.
# `linked_path` is a file on disk the function is kept in step with (live reload).
V3: Final = """
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
V4: Final = """
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
V5: Final = """
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
V6: Final = """
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
# to widen its CHECK (foreign keys are off while migrations run: see V4), rowids kept.
V7: Final = """
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
V8: Final = """
ALTER TABLE chat ADD COLUMN current_id TEXT;
UPDATE message SET parent_id = (
    SELECT earlier.id FROM message AS earlier
    WHERE earlier.chat_id = message.chat_id
      AND (earlier.created_at, earlier.rowid) < (message.created_at, message.rowid)
    ORDER BY earlier.created_at DESC, earlier.rowid DESC LIMIT 1
) WHERE parent_id IS NULL;
"""

# v9: the toggle filters switched on in a chat (Open WebUI's `filter_ids`, per chat), a JSON list.
V9: Final = """
ALTER TABLE chat ADD COLUMN filter_ids TEXT NOT NULL DEFAULT '[]';
"""


# v10: events move to a rowid table. In a WITHOUT ROWID table a row is its own b-tree key, and
# SQLite compares a key that spills onto overflow pages by reading the whole row: one large
# event (a call record whose body holds a 5 MB reply of the history) made every insert of
# the reply whose id sorts next to it read those 5 MB, so 10,000 events took a minute with
# the write lock held. Now the index holds only (message_id, seq) and the rowid, and the
# data lives in the table keyed by that integer, never compared.
V10: Final = """
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
V11: Final = """
ALTER TABLE chat ADD COLUMN origin TEXT NOT NULL DEFAULT 'app' CHECK (origin IN ('app', 'run'));
"""

# v12: attachments. `file` is Open WebUI's file row (id, user_id, hash, filename, path, data
# {content}, meta {name, content_type, size, file_hash, data}), plus the chat it was sent in, so
# deleting the chat deletes its rows (and `ChatRepo.delete` its copies under files/). A user
# message keeps its attached items in `files` (a JSON list, Open WebUI's message `files`).
V12: Final = """
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
V13: Final = """
ALTER TABLE chat ADD COLUMN tool_ids TEXT NOT NULL DEFAULT '[]';
"""
