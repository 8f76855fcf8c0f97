//! Checkpoints: [`checkpoint`] captures a project's [`ProjectState`] with the git position
//! of its tree and its parent checkpoint; [`restore`] makes the planning state exactly what
//! was captured (after a safety checkpoint, in one transaction); [`CheckpointPolicy`] decides
//! which orchestrator events take one automatically, and retention keeps the last few of those.

use std::path::Path;
use std::time::Duration;

use nexus_db::checkpoints::{self, Checkpoint, CheckpointTrigger, NewCheckpoint};
use nexus_db::{CheckpointId, Db, DbError, Page, ProjectId, TaskId, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;
use tracing::info;

use crate::error::{Result, StateError};
use crate::git;
use crate::save::{validate_planning, write_planning};
use crate::snapshot::{CheckpointSummary, Planning, ProjectState, STATE_VERSION, load, read_state};

/// What to record with a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRequest {
    /// Why it is taken.
    pub reason: String,
    /// What took it.
    pub trigger: CheckpointTrigger,
    /// A display name.
    pub name: Option<String>,
}

impl CheckpointRequest {
    /// A manual checkpoint for `reason`.
    pub fn manual(reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), trigger: CheckpointTrigger::Manual, name: None }
    }
}

/// Captures the project's state, the git commit of its `root_path` (and whether the tree was
/// dirty) and its parent (the project's previous checkpoint), in one write transaction.
pub async fn checkpoint(db: &Db, project: &ProjectId, request: CheckpointRequest) -> Result<Checkpoint> {
    let root = nexus_db::projects::get(db.reader(), project)
        .await
        .map_err(|e| unknown_project(e, project))?
        .root_path;
    let git = git::position(Path::new(&root)).await;
    let mut tx = db.begin().await?;
    let (checkpoint, _) = capture(&mut tx, project, request, git).await?;
    tx.commit().await.map_err(DbError::from)?;
    info!(project = %project, checkpoint = %checkpoint.id, trigger = %checkpoint.triggered_by, "checkpoint taken");
    Ok(checkpoint)
}

/// Inserts a checkpoint of the project's current state on `conn` (inside a transaction);
/// returns it with the state it captured.
async fn capture(
    conn: &mut SqliteConnection,
    project: &ProjectId,
    request: CheckpointRequest,
    git: Option<git::GitPosition>,
) -> Result<(Checkpoint, ProjectState)> {
    let state = read_state(&mut *conn, project).await?;
    let parent = state.latest_checkpoint.as_ref().map(|c| c.id.clone());
    let mut new = NewCheckpoint::new(
        project,
        serde_json::to_value(&state).map_err(|e| StateError::invalid(project, e.to_string()))?,
    );
    new.reason = Some(request.reason);
    new.name = request.name;
    new.triggered_by = request.trigger;
    new.parent_id = parent;
    new.git_commit = git.as_ref().map(|g| g.commit.clone());
    new.git_dirty = git.map(|g| g.dirty);
    Ok((checkpoints::create(&mut *conn, new).await?, state))
}

/// The state a checkpoint captured, checked to be of a version this build reads.
pub fn captured_state(checkpoint: &Checkpoint) -> Result<ProjectState> {
    let bad = |reason: String| StateError::BadCheckpoint { checkpoint: checkpoint.id.clone(), reason };
    let value = checkpoint.state.as_ref().ok_or_else(|| bad("it holds no state".to_owned()))?;
    let version = value.0.get("version").and_then(serde_json::Value::as_u64);
    match version {
        Some(v) if v == u64::from(STATE_VERSION) => {}
        Some(v) => {
            return Err(StateError::UnsupportedVersion {
                found: u32::try_from(v).unwrap_or(u32::MAX),
                supported: STATE_VERSION,
            });
        }
        None => return Err(bad("its state has no version field: not a project state".to_owned())),
    }
    ProjectState::deserialize(&value.0).map_err(|e| bad(format!("its state cannot be read: {e}")))
}

/// What [`restore`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// The safety checkpoint taken just before (trigger `before_restore`).
    pub safety: Checkpoint,
    /// The project's state after the restore.
    pub state: ProjectState,
}

/// Makes the project's planning state (project fields, features, sub-features, tasks,
/// requirements) exactly what `checkpoint` captured — rows added since are removed, rows
/// deleted since come back, timestamps as captured — after taking a safety checkpoint, all in
/// one transaction. Memory (episodes, code chunks), metrics, sessions, agents and continue
/// points are history and are not rolled back. A checkpoint of another state version is
/// refused with [`StateError::UnsupportedVersion`]; nothing is ever partly restored.
pub async fn restore(db: &Db, checkpoint: &CheckpointId) -> Result<Restored> {
    let row = checkpoints::get(db.reader(), checkpoint).await?;
    let captured = captured_state(&row)?;
    let planning = Planning::from_state(captured);
    validate_planning(&planning)?;
    let project = row.project_id.clone();
    let root = nexus_db::projects::get(db.reader(), &project)
        .await
        .map_err(|e| unknown_project(e, &project))?
        .root_path;
    let git = git::position(Path::new(&root)).await;
    let mut tx = db.begin().await?;
    let request = CheckpointRequest {
        reason: format!("before restoring checkpoint {checkpoint}"),
        trigger: CheckpointTrigger::BeforeRestore,
        name: None,
    };
    let (safety, before) = capture(&mut tx, &project, request, git).await?;
    write_planning(&mut tx, &planning, Some(&Planning::from_state(before))).await?;
    tx.commit().await.map_err(DbError::from)?;
    info!(project = %project, checkpoint = %checkpoint, safety = %safety.id, "checkpoint restored");
    Ok(Restored { safety, state: load(db, &project).await? })
}

/// The project's checkpoints as a timeline, newest first.
pub async fn list(db: &Db, project: &ProjectId) -> Result<Vec<CheckpointSummary>> {
    let rows = checkpoints::list(db.reader(), project, Page::default()).await?;
    Ok(rows.iter().map(CheckpointSummary::from).collect())
}

/// Which orchestrator events take a checkpoint automatically, and how many automatic
/// checkpoints to keep (manual ones are always kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPolicy {
    /// On [`Event::PhaseComplete`].
    pub phase_complete: bool,
    /// On [`Event::TaskFailed`].
    pub task_failed: bool,
    /// On [`Event::QaExhausted`].
    pub qa_exhausted: bool,
    /// On [`Event::HumanRequest`].
    pub human_request: bool,
    /// On [`Event::Tick`] when the latest checkpoint is at least this old.
    pub periodic: Option<Duration>,
    /// Automatic checkpoints kept per project (older ones are deleted after each new one).
    pub keep_automatic: u32,
}

impl Default for CheckpointPolicy {
    /// The research's triggers on, no periodic checkpoints, 20 automatic ones kept.
    fn default() -> Self {
        Self {
            phase_complete: true,
            task_failed: true,
            qa_exhausted: true,
            human_request: true,
            periodic: None,
            keep_automatic: 20,
        }
    }
}

/// An orchestrator event the [`CheckpointPolicy`] may take a checkpoint on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A phase of the project completed.
    PhaseComplete {
        /// Its name.
        phase: String,
    },
    /// A task failed.
    TaskFailed {
        /// The task.
        task: TaskId,
    },
    /// A task used all its QA iterations.
    QaExhausted {
        /// The task.
        task: TaskId,
    },
    /// A person asked for a checkpoint.
    HumanRequest {
        /// What they said.
        reason: String,
    },
    /// Time passes (call it from the orchestrator's loop; the policy's period decides).
    Tick,
}

impl CheckpointPolicy {
    /// The hook: takes the checkpoint `event` calls for under this policy (then applies
    /// retention), or returns `None`.
    pub async fn on_event(&self, db: &Db, project: &ProjectId, event: &Event) -> Result<Option<Checkpoint>> {
        let request = match event {
            Event::PhaseComplete { phase } if self.phase_complete => {
                (CheckpointTrigger::PhaseComplete, format!("phase complete: {phase}"))
            }
            Event::TaskFailed { task } if self.task_failed => {
                (CheckpointTrigger::TaskFailed, format!("task failed: {task}"))
            }
            Event::QaExhausted { task } if self.qa_exhausted => {
                (CheckpointTrigger::QaExhausted, format!("QA iterations exhausted: {task}"))
            }
            Event::HumanRequest { reason } if self.human_request => {
                (CheckpointTrigger::HumanRequest, reason.clone())
            }
            Event::Tick => match self.periodic {
                Some(period) if self.periodic_due(db, project, period).await? => {
                    (CheckpointTrigger::Periodic, "periodic checkpoint".to_owned())
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let (trigger, reason) = request;
        let taken = checkpoint(db, project, CheckpointRequest { reason, trigger, name: None }).await?;
        if trigger.is_automatic() {
            let deleted =
                checkpoints::delete_automatic_beyond(db.writer(), project, self.keep_automatic).await?;
            if !deleted.is_empty() {
                info!(project = %project, deleted = deleted.len(), "old automatic checkpoints deleted");
            }
        }
        Ok(Some(taken))
    }

    async fn periodic_due(&self, db: &Db, project: &ProjectId, period: Duration) -> Result<bool> {
        let latest = checkpoints::latest(db.reader(), project).await?;
        Ok(latest.is_none_or(|c| c.created_at <= Timestamp::now().minus(period)))
    }
}

fn unknown_project(error: DbError, project: &ProjectId) -> StateError {
    match error {
        DbError::NotFound { .. } => StateError::UnknownProject(project.to_string()),
        e => e.into(),
    }
}
