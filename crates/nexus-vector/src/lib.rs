//! # nexus-vector
//!
//! Vector search for Nexus on sqlite-vec `vec0` tables, in the same SQLite file as the rows the
//! vectors belong to.
//!
//! * A [`Collection`] is one embedding space: a model, its [`dimensions`](CollectionSpec),
//!   a [`Metric`] (cosine or L2) and an [`Element`] type (float32, or int8 / bit with exact
//!   rescoring). It is registered in `vector_collections` and has its own vec0 table; asking for
//!   it with another model or dimensions is a [`VectorError::SpecMismatch`], never a silent mix.
//! * Every vector belongs to a source row, `(SourceKind, id)`: an episode, code chunk,
//!   requirement or task. [`Collection::upsert`] and [`Collection::delete`] run in the caller's
//!   transaction; deleting the row (or its project) deletes its vectors.
//! * [`Collection::knn`] answers a [`KnnQuery`] — k, a maximum distance, and project, kind and
//!   label filters that sqlite-vec applies inside its scan — from a pool or a connection,
//!   typically `db.reader()`. Float32 queries with a project are answered from resident copies
//!   of the partitions they read, kept current by the vector generation (`resident`).
//! * [`Collection::stats`] counts vectors per project and kind and measures the bytes used.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nexus_db::{Db, SourceKind, episodes::{self, EpisodeType, NewEpisode}, projects::{self, NewProject}};
//! use nexus_vector::{Collection, CollectionSpec, Item, KnnQuery, Metric};
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path().join("nexus.db")).await?;
//! let memory = Collection::open_or_create(&db, &CollectionSpec::new("memory", "toy-model", 3, Metric::Cosine)).await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//!
//! // The row and its vector are written in one transaction.
//! let mut tx = db.begin().await?;
//! let note = episodes::create(&mut *tx, NewEpisode::new(&project.id, EpisodeType::Decision, "totals in cents")).await?;
//! memory.upsert(&mut tx, Item::new(SourceKind::Episode, &note.id, &[0.9, 0.1, 0.0])).await?;
//! tx.commit().await?;
//!
//! let query = [1.0, 0.0, 0.0];
//! let hits = memory.knn(db.reader(), &KnnQuery::new(&query, 5).project(&project.id).kinds(&[SourceKind::Episode])).await?;
//! assert_eq!(hits[0].id, note.id);
//! assert!(hits[0].distance < 0.01);
//! # db.close().await?;
//! # Ok(()) }
//! ```
//!
//! See `docs/vector.md` for the design, the quantisation trade-offs and benchmark numbers.

mod collection;
mod encode;
mod error;
mod int_dot;
mod keys;
mod knn;
mod prefilter;
mod registry;
mod resident;
mod spec;
mod sql;
mod stats;

pub use collection::{Collection, Item};
pub use error::{Result, VectorError, VectorProblem};
pub use knn::{KnnQuery, MAX_K, Neighbor};
pub use registry::{CollectionInfo, list as list_collections};
pub use resident::{DEFAULT_RESIDENT_BYTES, ResidentStats, resident_limit, set_resident_limit};
pub use spec::{CollectionSpec, Element, MAX_DIMENSIONS, Metric};
pub use stats::{CollectionStats, StatsGroup};
