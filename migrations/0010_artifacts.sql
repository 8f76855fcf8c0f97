-- Artifacts: large outputs of agents (command logs, diffs, bundles, files) stored as files on
-- disk beside the database (crate nexus-artifacts), one row each here. The file of a row is
-- `<root>/<project_id>/<kind>/<sha256[0..2]>/<sha256>` (`.zst` appended when compressed).
-- Identical content is stored once per project and kind: (project_id, kind, sha256) is unique.
-- `state` is what the last integrity repair found: 'present', or 'missing' / 'corrupt' when
-- the file was gone or no longer matched its hash. `transcript_id` is plain text (no foreign
-- key), so artifacts do not depend on the transcripts tables.
CREATE TABLE artifacts (
    id            TEXT    NOT NULL PRIMARY KEY,
    project_id    TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    task_id       TEXT,
    transcript_id TEXT,
    kind          TEXT    NOT NULL CHECK (kind IN ('log', 'diff', 'bundle', 'file', 'other')),
    name          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size          INTEGER NOT NULL CHECK (size >= 0),
    stored_size   INTEGER NOT NULL CHECK (stored_size >= 0),
    sha256        TEXT    NOT NULL CHECK (length(sha256) = 64),
    compression   TEXT    NOT NULL CHECK (compression IN ('none', 'zstd')),
    state         TEXT    NOT NULL DEFAULT 'present' CHECK (state IN ('present', 'missing', 'corrupt')),
    created_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX artifacts_project_kind_idx ON artifacts (project_id, kind);
CREATE UNIQUE INDEX artifacts_project_kind_sha256_idx ON artifacts (project_id, kind, sha256);
