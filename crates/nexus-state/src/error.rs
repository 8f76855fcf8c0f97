//! [`StateError`]: what can go wrong loading, saving, checkpointing and importing a project's
//! state, with the ids, versions and lines involved.

use nexus_db::{AgentId, CheckpointId, DbError, ProjectId, TaskId};

/// The crate's result type.
pub type Result<T, E = StateError> = std::result::Result<T, E>;

/// Errors of nexus-state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A database error (with the table it concerns).
    #[error(transparent)]
    Db(#[from] DbError),
    /// The thread computing a state's revision digest did not finish (the runtime is
    /// shutting down).
    #[error("computing the state's revision failed: {0}")]
    Digest(String),
    /// No project with this name or id.
    #[error("unknown project {0:?}")]
    UnknownProject(String),
    /// The state was loaded before another writer changed the project: saving it would undo
    /// their change. Load again, or save with `force`.
    #[error(
        "project {project} changed since this state was loaded (revision {expected}, now {found}); load it again or force the save"
    )]
    Conflict {
        /// The project.
        project: ProjectId,
        /// The revision the state was loaded at.
        expected: String,
        /// The revision in the database now.
        found: String,
    },
    /// The state (or a checkpoint, or a STATE.md file) has a version this build cannot read.
    #[error("state version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The state contradicts itself (a reference to a row it does not contain, a duplicate
    /// id, a row of another project); nothing was written.
    #[error("invalid state of project {project}: {reason}")]
    InvalidState {
        /// The project.
        project: ProjectId,
        /// What is wrong.
        reason: String,
    },
    /// A task names an agent that does not exist.
    #[error("task {task}: unknown agent {agent}")]
    UnknownAgent {
        /// The task.
        task: TaskId,
        /// The agent named.
        agent: AgentId,
    },
    /// A task, or a reference to one, names a task that does not exist in the project.
    #[error("unknown task {task} in project {project}")]
    UnknownTask {
        /// The project.
        project: ProjectId,
        /// The task named.
        task: TaskId,
    },
    /// A task depends on a task that does not exist.
    #[error("task {task} depends on unknown task {dependency}")]
    UnknownDependency {
        /// The task.
        task: TaskId,
        /// The dependency named.
        dependency: TaskId,
    },
    /// A task cannot start or be assigned before its dependency completes.
    #[error("task {task} depends on task {dependency}, which is {status}, not completed")]
    UnfinishedDependency {
        /// The task.
        task: TaskId,
        /// The dependency.
        dependency: TaskId,
        /// The dependency's status.
        status: String,
    },
    /// A checkpoint's stored state cannot be read (not a project state, or damaged).
    #[error("checkpoint {checkpoint}: {reason}")]
    BadCheckpoint {
        /// The checkpoint.
        checkpoint: CheckpointId,
        /// What is wrong with it.
        reason: String,
    },
    /// A STATE.md file that cannot be imported; nothing was written.
    #[error("STATE.md line {line}: {reason}")]
    Markdown {
        /// 1-based line number.
        line: usize,
        /// What is wrong there.
        reason: String,
    },
}

impl StateError {
    pub(crate) fn invalid(project: &ProjectId, reason: impl Into<String>) -> Self {
        Self::InvalidState { project: project.clone(), reason: reason.into() }
    }

    pub(crate) fn markdown(line: usize, reason: impl Into<String>) -> Self {
        Self::Markdown { line, reason: reason.into() }
    }
}
