//! # nexus-db
//!
//! The foundation of Nexus storage: one SQLite file (or an in-memory database) opened with the
//! pragmas an agent orchestrator needs, the Nexus schema migrated, and typed,
//! compile-time-checked query functions for every table.
//!
//! * [`Db`] — the handle: a single writer connection plus a reader pool, transactions,
//!   health, clean close.
//! * [`DbOptions`] — location, pool sizes and pragmas.
//! * One module per table ([`projects`], [`tasks`], [`episodes`], …) with its row type, its
//!   `New*` insert type, its enums, and `create` / `get` / `update` / `list` / `delete`
//!   functions that take any sqlx executor: `db.writer()`, `db.reader()` or a transaction.
//! * [`DbError`] — the crate's typed error: `NotFound`, `Constraint` (naming the table), …
//! * [`Db::table_counts`] — rows per table, full-text and vector table sizes, as typed data.
//! * [`f32_bytes`] / [`f32s_from_bytes`] and [`sha256_hex`] — the stored form of vectors and
//!   digests, shared by the crates above this one.
//!
//! All timestamps are [`Timestamp`]s: Unix epoch milliseconds.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> nexus_db::Result<()> {
//! use nexus_db::{Db, projects::{self, NewProject}, tasks::{self, NewTask, TaskStatus}};
//! let db = Db::in_memory().await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//! let task = tasks::create(db.writer(), NewTask::new(&project.id, "write the cart")).await?;
//! let task = tasks::start(db.writer(), &task.id, &"coder-1".into()).await?;
//! assert_eq!(task.status, TaskStatus::InProgress);
//! # Ok(()) }
//! ```

mod bytes;
mod counts;
mod db;
mod error;
mod extension;
mod health;
mod id;
mod interrupt;
pub mod migrate;
mod models;
mod options;
mod time;
mod validate;

pub use bytes::{f32_bytes, f32s_from_bytes, hex, sha256, sha256_hex};
pub use counts::{FTS_INDEXES, FtsCount, TableCount, TableCounts, VectorTableCount};
pub use db::{CheckpointMode, Db, WalCheckpoint};
pub use error::{ConstraintKind, DbError, FoundExt, OptionExt, Result, ResultExt, ReturningExt};
pub use extension::configure_sqlite;
pub use health::Health;
pub use id::{
    AgentId, ApiKeyId, ArtifactId, CheckpointId, CodeChunkId, ContinuePointId, EpisodeId, FeatureId,
    HistoryId, KnowledgeId, MetricId, ProjectId, RequirementId, ResearchSessionId, SessionId, SubFeatureId,
    TaskId, TranscriptId, UserId, new_id,
};
pub use interrupt::{InterruptGuard, interruptible};
pub use models::{
    Cursor, MAX_PAGE, Page, Paged, SourceKind, agents, api_keys, artifacts, checkpoints, code_chunks,
    continue_points, episodes, features, history, indexed_files, knowledge, metrics, projects, requirements,
    research_sessions, retention, sessions, sub_features, tasks, transcripts, users,
};
pub use options::{DbOptions, Location, Synchronous};
pub use sqlx::types::Json;
pub use time::Timestamp;
pub use validate::MAX_CONTENT_BYTES;
