-- Checkpoints record what took them and what they follow: the trigger (a manual call or one
-- of the automatic triggers of the checkpoint policy), the parent checkpoint, and whether
-- the project's git tree had uncommitted changes when `git_commit` was read.
ALTER TABLE checkpoints ADD COLUMN triggered_by TEXT NOT NULL DEFAULT 'manual'
    CHECK (triggered_by IN ('manual', 'human_request', 'phase_complete', 'task_failed',
                            'qa_exhausted', 'periodic', 'before_restore'));
ALTER TABLE checkpoints ADD COLUMN parent_id TEXT REFERENCES checkpoints (id) ON DELETE SET NULL;
ALTER TABLE checkpoints ADD COLUMN git_dirty INTEGER CHECK (git_dirty IS NULL OR git_dirty IN (0, 1));
CREATE INDEX checkpoints_project_created_idx ON checkpoints (project_id, created_at);
