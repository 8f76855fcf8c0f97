-- The code index's record of which files of a project it has indexed, with their content hash,
-- so re-indexing skips unchanged files, replaces changed ones and removes deleted ones
-- (nexus-store `Store::index_dir`). Deleted with the project.
CREATE TABLE indexed_files (
    project_id TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    path       TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    language   TEXT    NOT NULL,
    chunks     INTEGER NOT NULL CHECK (chunks >= 0),
    bytes      INTEGER NOT NULL CHECK (bytes >= 0),
    indexed_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, path)
) STRICT, WITHOUT ROWID;
