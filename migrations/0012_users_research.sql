-- Users, API keys and the research domain behind the HTTP API (`nexus serve`, crate
-- nexus-server).
--
-- A user is named by an email (unique, case-insensitively) and has settings (a JSON object).
-- API keys are random 256-bit secrets shown once: only their SHA-256 (hex) is stored, with a
-- short prefix for display; a user has several, each revocable and with a last-used time.
-- `project_owners` links a project to the user who owns it ('project'), or marks it as the
-- hidden project holding that user's knowledge chunks ('knowledge'): a project without a row
-- here is reachable from the command line only.
CREATE TABLE users (
    id         TEXT    NOT NULL PRIMARY KEY,
    email      TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 320),
    settings   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(settings) AND json_type(settings) = 'object'),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key_hash     TEXT    NOT NULL UNIQUE CHECK (length(key_hash) = 64),
    prefix       TEXT    NOT NULL,
    name         TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE project_owners (
    project_id TEXT    NOT NULL PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT    NOT NULL DEFAULT 'project' CHECK (role IN ('project', 'knowledge')),
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX project_owners_user_idx ON project_owners (user_id, role, project_id);

-- Knowledge: files, URLs and texts a user gives the research agent. Creating one stores it with
-- status 'processing'; a background job chunks and embeds `content` into the search index (as
-- code chunks of the user's knowledge project, file `knowledge/<id>`) and sets 'completed', or
-- 'failed' with the reason in `error`.
CREATE TABLE knowledge_items (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('file', 'url', 'text')),
    title        TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    url          TEXT,
    file_name    TEXT,
    content_type TEXT,
    size         INTEGER NOT NULL CHECK (size >= 0),
    status       TEXT    NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'completed', 'failed')),
    error        TEXT,
    chunk_count  INTEGER NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX knowledge_items_user_idx ON knowledge_items (user_id, id);

-- Research sessions: phase topic -> questions -> feedback -> planning -> executing ->
-- completed (any phase may go to 'error'); `version` grows by one on every update (optimistic
-- concurrency); a session past `expires_at` is gone for the API and removed by cleanup.
CREATE TABLE research_sessions (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    phase        TEXT    NOT NULL DEFAULT 'topic'
                 CHECK (phase IN ('topic', 'questions', 'feedback', 'planning', 'executing', 'completed', 'error')),
    version      INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    topic        TEXT    NOT NULL,
    questions    TEXT,
    feedback     TEXT,
    report_plan  TEXT,
    tasks        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tasks)),
    results      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(results)),
    final_report TEXT,
    resources    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(resources)),
    sources      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(sources)),
    images       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(images)),
    settings     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(settings)),
    metadata     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    error        TEXT,
    expires_at   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX research_sessions_user_idx ON research_sessions (user_id, id);
CREATE INDEX research_sessions_expiry_idx ON research_sessions (expires_at) WHERE expires_at IS NOT NULL;

-- History: a snapshot of a research session (title, tags, the report and the whole session as
-- JSON), searchable by tag and by full text over title and report. `session_id` is plain text:
-- the snapshot outlives its session.
CREATE TABLE history (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id TEXT,
    title      TEXT    NOT NULL,
    tags       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    report     TEXT    NOT NULL DEFAULT '',
    snapshot   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(snapshot)),
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX history_user_idx ON history (user_id, id);

-- Full-text index of history (same tokenizer as the other prose indexes, see 0003_fts.sql).
CREATE VIRTUAL TABLE history_fts USING fts5 (
    title, report,
    content = 'history',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER history_fts_insert AFTER INSERT ON history BEGIN
    INSERT INTO history_fts (rowid, title, report) VALUES (new.rowid, new.title, new.report);
END;
CREATE TRIGGER history_fts_delete AFTER DELETE ON history BEGIN
    INSERT INTO history_fts (history_fts, rowid, title, report) VALUES ('delete', old.rowid, old.title, old.report);
END;
CREATE TRIGGER history_fts_update AFTER UPDATE OF title, report ON history BEGIN
    INSERT INTO history_fts (history_fts, rowid, title, report) VALUES ('delete', old.rowid, old.title, old.report);
    INSERT INTO history_fts (rowid, title, report) VALUES (new.rowid, new.title, new.report);
END;
