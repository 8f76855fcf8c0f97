//! `checkpoints`: snapshots of a project's state for recovery and rollback. Append-only:
//! a checkpoint is created, read and deleted, never changed.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;
use sqlx::types::Json;

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{CheckpointId, ProjectId, Timestamp};

const TABLE: &str = "checkpoints";

text_enum! {
    /// What took a checkpoint. `Manual` and `HumanRequest` are kept by retention; the others
    /// are automatic and only the most recent are kept.
    pub enum CheckpointTrigger {
        /// An explicit call (CLI, API).
        Manual = "manual",
        /// A person asked for one.
        HumanRequest = "human_request",
        /// A phase of the project completed.
        PhaseComplete = "phase_complete",
        /// A task failed.
        TaskFailed = "task_failed",
        /// A task used all its QA iterations.
        QaExhausted = "qa_exhausted",
        /// The periodic timer of the checkpoint policy.
        Periodic = "periodic",
        /// The safety checkpoint taken before a restore.
        BeforeRestore = "before_restore",
    }
}

impl CheckpointTrigger {
    /// True for the triggers retention may delete (all but `Manual` and `HumanRequest`).
    pub const fn is_automatic(self) -> bool {
        !matches!(self, Self::Manual | Self::HumanRequest)
    }
}

/// A row of `checkpoints`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Checkpoint {
    /// Primary key.
    pub id: CheckpointId,
    /// Owning project.
    pub project_id: ProjectId,
    /// Display name.
    pub name: Option<String>,
    /// Why it was taken.
    pub reason: Option<String>,
    /// The saved state (any JSON value).
    pub state: Option<Json<serde_json::Value>>,
    /// Git commit at the time.
    pub git_commit: Option<String>,
    /// When it was taken.
    pub created_at: Timestamp,
    /// What took it.
    pub triggered_by: CheckpointTrigger,
    /// The checkpoint this one follows (the project's previous one), if any.
    pub parent_id: Option<CheckpointId>,
    /// Whether the git tree had uncommitted changes (`None`: not a repository).
    pub git_dirty: Option<bool>,
}

/// A checkpoint to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCheckpoint {
    /// Id to use; a UUIDv7 is generated when `None`.
    pub id: Option<CheckpointId>,
    /// Owning project.
    pub project_id: ProjectId,
    /// Display name.
    pub name: Option<String>,
    /// Why it was taken.
    pub reason: Option<String>,
    /// The state to save.
    pub state: Option<serde_json::Value>,
    /// Git commit at the time.
    pub git_commit: Option<String>,
    /// What took it (default manual).
    pub triggered_by: CheckpointTrigger,
    /// The checkpoint it follows.
    pub parent_id: Option<CheckpointId>,
    /// Whether the git tree had uncommitted changes.
    pub git_dirty: Option<bool>,
}

impl NewCheckpoint {
    /// A checkpoint of `project_id` holding `state`.
    pub fn new(project_id: impl Into<ProjectId>, state: serde_json::Value) -> Self {
        Self {
            id: None,
            project_id: project_id.into(),
            name: None,
            reason: None,
            state: Some(state),
            git_commit: None,
            triggered_by: CheckpointTrigger::Manual,
            parent_id: None,
            git_dirty: None,
        }
    }
}

/// Expands to `query_as!(Checkpoint, $head + <every column> + $tail, args..)`.
macro_rules! query_checkpoints {
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Checkpoint,
            $head + r#" id AS "id: CheckpointId", project_id AS "project_id: ProjectId", name AS "name?", reason AS "reason?",
                      state AS "state?: Json<serde_json::Value>", git_commit AS "git_commit?",
                      created_at AS "created_at: Timestamp",
                      triggered_by AS "triggered_by: CheckpointTrigger",
                      parent_id AS "parent_id?: CheckpointId", git_dirty AS "git_dirty?: bool" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
}

/// Inserts a checkpoint and returns the stored row.
pub async fn create<'e>(ex: impl SqliteExecutor<'e>, new: NewCheckpoint) -> Result<Checkpoint> {
    let id = new.id.unwrap_or_else(CheckpointId::generate);
    let now = Timestamp::now();
    let state = new.state.map(Json);
    query_checkpoints!(
        "INSERT INTO checkpoints (id, project_id, name, reason, state, git_commit, created_at,
                                  triggered_by, parent_id, git_dirty)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.name,
        new.reason,
        state,
        new.git_commit,
        now,
        new.triggered_by,
        new.parent_id,
        new.git_dirty,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)
}

get_by_id!(query_checkpoints, "checkpoints", Checkpoint, CheckpointId);

/// A project's checkpoints, newest first (ties by id, newest first).
pub async fn list<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    page: Page,
) -> Result<Vec<Checkpoint>> {
    let (limit, offset) = (page.sql_limit(), page.sql_offset());
    query_checkpoints!(
        "SELECT",
        "FROM checkpoints WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        project_id,
        limit,
        offset,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

/// The project's most recent checkpoint, if any.
pub async fn latest<'e>(ex: impl SqliteExecutor<'e>, project_id: &ProjectId) -> Result<Option<Checkpoint>> {
    query_checkpoints!(
        "SELECT",
        "FROM checkpoints WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
        project_id,
    )
    .fetch_optional(ex)
    .await
    .in_table(TABLE)
}

/// Deletes the project's automatic checkpoints (see [`CheckpointTrigger::is_automatic`])
/// except the `keep` most recent ones; manual ones are never deleted. Returns the ids deleted.
pub async fn delete_automatic_beyond<'e>(
    ex: impl SqliteExecutor<'e>,
    project_id: &ProjectId,
    keep: u32,
) -> Result<Vec<CheckpointId>> {
    sqlx::query_scalar!(
        r#"DELETE FROM checkpoints
           WHERE project_id = ?1 AND triggered_by NOT IN ('manual', 'human_request')
             AND id NOT IN (SELECT id FROM checkpoints
                            WHERE project_id = ?1 AND triggered_by NOT IN ('manual', 'human_request')
                            ORDER BY created_at DESC, id DESC LIMIT ?2)
           RETURNING id AS "id: CheckpointId""#,
        project_id,
        keep,
    )
    .fetch_all(ex)
    .await
    .in_table(TABLE)
}

delete_by_id!("checkpoints", CheckpointId);
