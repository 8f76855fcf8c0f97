//! `checkpoints`: snapshots of a project's state for recovery and rollback. Append-only:
//! a checkpoint is created, read and deleted, never changed.

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;
use sqlx::types::Json;

use super::Page;
use crate::error::{Result, ResultExt, ReturningExt};
use crate::{CheckpointId, ProjectId, Timestamp};

const TABLE: &str = "checkpoints";

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
                      created_at AS "created_at: Timestamp" "# + $tail $(+ $more)*
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
        "INSERT INTO checkpoints (id, project_id, name, reason, state, git_commit, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        new.project_id,
        new.name,
        new.reason,
        state,
        new.git_commit,
        now,
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

delete_by_id!("checkpoints", CheckpointId);
