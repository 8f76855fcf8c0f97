-- Nexus core schema: the twelve tables of docs/schema.md.
--
-- Conventions (see docs/schema.md):
--   * every table is STRICT, so a column holds only its declared type;
--   * timestamps are INTEGER Unix epoch milliseconds (UTC);
--   * status/type columns are CHECKed against their value sets (Rust enums in nexus-db);
--   * JSON columns are TEXT and CHECKed with json_valid();
--   * embeddings are not stored here: nexus-vector keeps them in vec0 tables keyed by row.

CREATE TABLE projects (
    id             TEXT    NOT NULL PRIMARY KEY,
    name           TEXT    NOT NULL,
    description    TEXT,
    mode           TEXT    NOT NULL CHECK (mode IN ('genesis', 'evolution')),
    status         TEXT    NOT NULL DEFAULT 'created'
                   CHECK (status IN ('created', 'planning', 'in_progress', 'paused', 'completed', 'failed')),
    root_path      TEXT    NOT NULL,
    repository_url TEXT,
    settings       TEXT    CHECK (settings IS NULL OR json_valid(settings)),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    completed_at   INTEGER
) STRICT;

CREATE TABLE features (
    id              TEXT    NOT NULL PRIMARY KEY,
    project_id      TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    description     TEXT,
    priority        TEXT    NOT NULL DEFAULT 'should' CHECK (priority IN ('must', 'should', 'could', 'wont')),
    status          TEXT    NOT NULL DEFAULT 'backlog'
                    CHECK (status IN ('backlog', 'planned', 'in_progress', 'in_review', 'completed', 'cancelled')),
    complexity      TEXT    NOT NULL DEFAULT 'simple' CHECK (complexity IN ('simple', 'complex')),
    estimated_tasks INTEGER NOT NULL DEFAULT 0 CHECK (estimated_tasks >= 0),
    completed_tasks INTEGER NOT NULL DEFAULT 0 CHECK (completed_tasks >= 0),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX features_project_idx ON features (project_id);

CREATE TABLE sub_features (
    id          TEXT    NOT NULL PRIMARY KEY,
    feature_id  TEXT    NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    description TEXT,
    status      TEXT    NOT NULL DEFAULT 'backlog'
                CHECK (status IN ('backlog', 'planned', 'in_progress', 'in_review', 'completed', 'cancelled')),
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX sub_features_feature_idx ON sub_features (feature_id);

CREATE TABLE agents (
    id                 TEXT    NOT NULL PRIMARY KEY,
    type               TEXT    NOT NULL CHECK (type IN ('planner', 'coder', 'tester', 'reviewer', 'merger')),
    status             TEXT    NOT NULL DEFAULT 'idle'
                       CHECK (status IN ('idle', 'assigned', 'working', 'paused', 'error', 'terminated')),
    model_provider     TEXT    NOT NULL DEFAULT 'anthropic' CHECK (model_provider IN ('anthropic', 'google', 'openai')),
    model_name         TEXT    NOT NULL DEFAULT 'claude-sonnet-4',
    temperature        REAL    NOT NULL DEFAULT 0.3 CHECK (temperature >= 0.0 AND temperature <= 2.0),
    max_tokens         INTEGER NOT NULL DEFAULT 8000 CHECK (max_tokens > 0),
    system_prompt      TEXT,
    tools              TEXT    CHECK (tools IS NULL OR json_valid(tools)),
    current_task_id    TEXT,
    worktree_path      TEXT,
    branch_name        TEXT,
    tokens_used        INTEGER NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
    tasks_completed    INTEGER NOT NULL DEFAULT 0 CHECK (tasks_completed >= 0),
    tasks_failed       INTEGER NOT NULL DEFAULT 0 CHECK (tasks_failed >= 0),
    spawned_at         INTEGER NOT NULL,
    last_activity_at   INTEGER NOT NULL,
    terminated_at      INTEGER,
    termination_reason TEXT
) STRICT;

CREATE TABLE tasks (
    id                TEXT    NOT NULL PRIMARY KEY,
    project_id        TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    feature_id        TEXT    REFERENCES features (id) ON DELETE SET NULL,
    sub_feature_id    TEXT    REFERENCES sub_features (id) ON DELETE SET NULL,
    name              TEXT    NOT NULL,
    description       TEXT,
    type              TEXT    NOT NULL DEFAULT 'auto' CHECK (type IN ('auto', 'checkpoint', 'tdd')),
    status            TEXT    NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'queued', 'in_progress', 'in_review', 'completed', 'failed', 'blocked')),
    size              TEXT    NOT NULL DEFAULT 'small' CHECK (size IN ('atomic', 'small')),
    priority          INTEGER NOT NULL DEFAULT 5 CHECK (priority >= 1),
    tags              TEXT    CHECK (tags IS NULL OR json_valid(tags)),
    notes             TEXT    CHECK (notes IS NULL OR json_valid(notes)),
    assigned_agent    TEXT,
    worktree_path     TEXT,
    branch_name       TEXT,
    depends_on        TEXT    CHECK (depends_on IS NULL OR json_valid(depends_on)),
    blocked_by        TEXT,
    qa_iterations     INTEGER NOT NULL DEFAULT 0 CHECK (qa_iterations >= 0),
    max_iterations    INTEGER NOT NULL DEFAULT 50 CHECK (max_iterations >= 0),
    estimated_minutes INTEGER DEFAULT 15,
    actual_minutes    INTEGER,
    started_at        INTEGER,
    completed_at      INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX tasks_project_idx ON tasks (project_id);
CREATE INDEX tasks_feature_idx ON tasks (feature_id);
CREATE INDEX tasks_status_idx ON tasks (status);
CREATE INDEX tasks_sub_feature_idx ON tasks (sub_feature_id);

CREATE TABLE checkpoints (
    id         TEXT    NOT NULL PRIMARY KEY,
    project_id TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT,
    reason     TEXT,
    state      TEXT    CHECK (state IS NULL OR json_valid(state)),
    git_commit TEXT,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX checkpoints_project_idx ON checkpoints (project_id);

CREATE TABLE requirements (
    id                  TEXT    NOT NULL PRIMARY KEY,
    project_id          TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    category            TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    priority            TEXT    NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    source              TEXT,
    user_stories        TEXT    CHECK (user_stories IS NULL OR json_valid(user_stories)),
    acceptance_criteria TEXT    CHECK (acceptance_criteria IS NULL OR json_valid(acceptance_criteria)),
    linked_features     TEXT    CHECK (linked_features IS NULL OR json_valid(linked_features)),
    validated           INTEGER NOT NULL DEFAULT 0 CHECK (validated IN (0, 1)),
    confidence          REAL    NOT NULL DEFAULT 1.0 CHECK (confidence >= 0.0 AND confidence <= 1.0),
    tags                TEXT    CHECK (tags IS NULL OR json_valid(tags)),
    created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX requirements_project_idx ON requirements (project_id);

CREATE TABLE metrics (
    id         TEXT    NOT NULL PRIMARY KEY,
    project_id TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    agent_id   TEXT,
    task_id    TEXT,
    type       TEXT    NOT NULL CHECK (type IN ('token_usage', 'task_duration', 'qa_iterations')),
    value      REAL    NOT NULL,
    metadata   TEXT    CHECK (metadata IS NULL OR json_valid(metadata)),
    timestamp  INTEGER NOT NULL
) STRICT;
CREATE INDEX metrics_project_idx ON metrics (project_id);

CREATE TABLE sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    project_id TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    type       TEXT    NOT NULL CHECK (type IN ('interview', 'planning', 'execution')),
    status     TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'completed', 'cancelled')),
    data       TEXT    CHECK (data IS NULL OR json_valid(data)),
    started_at INTEGER NOT NULL,
    ended_at   INTEGER
) STRICT;
CREATE INDEX sessions_project_idx ON sessions (project_id);

CREATE TABLE episodes (
    id               TEXT    NOT NULL PRIMARY KEY,
    project_id       TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    type             TEXT    NOT NULL
                     CHECK (type IN ('code_generation', 'error_fix', 'review_feedback', 'decision', 'research')),
    content          TEXT    NOT NULL,
    summary          TEXT,
    context          TEXT    CHECK (context IS NULL OR json_valid(context)),
    task_id          TEXT,
    agent_id         TEXT,
    importance       REAL    NOT NULL DEFAULT 1.0 CHECK (importance >= 0.0),
    access_count     INTEGER NOT NULL DEFAULT 0 CHECK (access_count >= 0),
    last_accessed_at INTEGER,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX episodes_project_idx ON episodes (project_id);
CREATE INDEX episodes_type_idx ON episodes (type);

CREATE TABLE continue_points (
    id              TEXT    NOT NULL PRIMARY KEY,
    project_id      TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    task_id         TEXT    NOT NULL,
    last_action     TEXT    NOT NULL,
    file            TEXT,
    line            INTEGER CHECK (line IS NULL OR line >= 0),
    function_name   TEXT,
    next_steps      TEXT    CHECK (next_steps IS NULL OR json_valid(next_steps)),
    agent_id        TEXT,
    iteration_count INTEGER NOT NULL DEFAULT 0 CHECK (iteration_count >= 0),
    saved_at        INTEGER NOT NULL
) STRICT;
CREATE INDEX continue_points_project_idx ON continue_points (project_id);
CREATE INDEX continue_points_task_idx ON continue_points (task_id);

-- Deviation from the reference schema: project_id is a foreign key with ON DELETE CASCADE,
-- so deleting a project removes its code chunks (and, through nexus-vector, their vectors).
CREATE TABLE code_chunks (
    id         TEXT    NOT NULL PRIMARY KEY,
    project_id TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    file       TEXT    NOT NULL,
    start_line INTEGER NOT NULL CHECK (start_line >= 1),
    end_line   INTEGER NOT NULL,
    content    TEXT    NOT NULL,
    symbols    TEXT    CHECK (symbols IS NULL OR json_valid(symbols)),
    chunk_type TEXT    NOT NULL,
    language   TEXT    NOT NULL,
    complexity INTEGER,
    hash       TEXT    NOT NULL,
    indexed_at INTEGER NOT NULL,
    CHECK (end_line >= start_line)
) STRICT;
CREATE INDEX code_chunks_file_idx ON code_chunks (file);
CREATE INDEX code_chunks_project_idx ON code_chunks (project_id, file);
CREATE INDEX code_chunks_hash_idx ON code_chunks (hash);
