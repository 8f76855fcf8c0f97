//! # nexus-state
//!
//! A project's state as one value, on top of nexus-db's tables:
//!
//! * [`load`] / [`save`] — a [`ProjectState`] (project, features with sub-features, tasks,
//!   requirements, the agents, open sessions, latest checkpoint and continue points, derived
//!   figures) read in one snapshot and written back in one transaction; a stale state is
//!   refused ([`StateError::Conflict`]) unless forced.
//! * the task workflow ([`workflow`]) — assign, start, complete, fail, block, ready: each one
//!   transaction that checks agents and dependencies and keeps counters, feature progress and
//!   metrics in step.
//! * checkpoints — [`checkpoint`], [`restore`], [`diff_checkpoints`], [`list_checkpoints`],
//!   and a [`CheckpointPolicy`] whose hook an orchestrator calls on its events.
//! * continue points — [`save_continue_point`], [`resume`], [`history`].
//! * STATE.md — [`markdown::export`] and [`markdown::import`], lossless both ways.
//! * [`dashboard`] — tasks by status, metrics by type, agent and day, tokens and cost per agent.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nexus_db::{Db, agents::{self, AgentType, NewAgent}, projects::{self, NewProject}, tasks::NewTask};
//! use nexus_state::{CheckpointRequest, SaveMode, workflow};
//! let db = Db::in_memory().await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//! let coder = agents::create(db.writer(), NewAgent::new(AgentType::Coder)).await?;
//! let task = workflow::create_task(&db, NewTask::new(&project.id, "cart totals")).await?;
//! let saved = nexus_state::checkpoint(&db, &project.id, CheckpointRequest::manual("before work")).await?;
//!
//! workflow::start(&db, &task.id, &coder.id).await?;
//! workflow::complete(&db, &task.id, Some(12)).await?;
//! let mut state = nexus_state::load(&db, &project.id).await?;
//! assert_eq!(state.summary.progress, 1.0);
//!
//! state.tasks[0].name = "cart totals in cents".into();
//! let state = nexus_state::save(&db, &state, SaveMode::CheckRevision).await?;
//! assert_eq!(state.tasks[0].name, "cart totals in cents");
//!
//! let restored = nexus_state::restore(&db, &saved.id).await?;
//! assert_eq!(restored.state.tasks[0].name, "cart totals");
//! # Ok(()) }
//! ```

mod checkpoint;
mod dashboard;
mod diff;
mod error;
mod git;
pub mod markdown;
mod resume;
mod save;
mod snapshot;
pub mod workflow;

pub use checkpoint::{
    CheckpointPolicy, CheckpointRequest, Event, Restored, captured_state, checkpoint,
    list as list_checkpoints, restore,
};
pub use dashboard::{AgentUsage, Dashboard, dashboard};
pub use diff::{RowDiff, StateDiff, TableDiff, diff, diff_checkpoints};
pub use error::{Result, StateError};
pub use nexus_db::checkpoints::CheckpointTrigger;
pub use resume::{history, resume, save_continue_point};
pub use save::{SaveMode, save};
pub use snapshot::{
    CheckpointSummary, FeatureProgress, FeatureState, ProjectState, STATE_VERSION, Summary, find_project,
    load,
};
