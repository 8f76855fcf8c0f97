-- Agent transcripts: one conversation of one agent in a project (optionally tied to a
-- session and a task), and its entries with a gapless per-transcript sequence number
-- (assigned under the single writer: `entry_count` is the last sequence number used).
CREATE TABLE transcripts (
    id          TEXT    NOT NULL PRIMARY KEY,
    project_id  TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    agent_id    TEXT,
    session_id  TEXT,
    task_id     TEXT,
    title       TEXT,
    entry_count INTEGER NOT NULL DEFAULT 0 CHECK (entry_count >= 0),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX transcripts_project_idx ON transcripts (project_id, created_at);

CREATE TABLE transcript_entries (
    id            INTEGER NOT NULL PRIMARY KEY,
    transcript_id TEXT    NOT NULL REFERENCES transcripts (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL CHECK (seq >= 1),
    role          TEXT    NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
    content       TEXT    NOT NULL,
    tool_name     TEXT,
    tool_call_id  TEXT,
    input_tokens  INTEGER CHECK (input_tokens IS NULL OR input_tokens >= 0),
    output_tokens INTEGER CHECK (output_tokens IS NULL OR output_tokens >= 0),
    metadata      TEXT    CHECK (metadata IS NULL OR json_valid(metadata)),
    created_at    INTEGER NOT NULL,
    UNIQUE (transcript_id, seq)
) STRICT;
