//! # nexus-search
//!
//! Hybrid search for Nexus: one builder that finds the right episodes, code chunks,
//! requirements or tasks for a query, by meaning and by keyword, with the reasons visible.
//!
//! * [`search`] / [`Search`] — the builder: text, embedding (or an embedder), project, kinds,
//!   labels, mode, fusion, candidate depth, page size, explain, cursor pagination.
//! * [`fusion`] — reciprocal rank fusion and normalised-score fusion, with a per-hit
//!   [`Breakdown`] of each leg's rank, score and contribution.
//! * [`NameMatch`] — code candidates re-ranked by how well the query's words name them.
//! * [`Hit`] / [`Source`] — results hydrated with their typed rows and FTS snippets.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nexus_db::{Db, SourceKind, episodes::{self, EpisodeType, NewEpisode}, projects::{self, NewProject}};
//! use nexus_embed::{Embedder, LocalEmbedder};
//! use nexus_search::{Mode, search};
//! use nexus_vector::{Collection, CollectionSpec, Item, Metric};
//!
//! let db = Db::in_memory().await?;
//! let embedder = LocalEmbedder::default();
//! let spec = CollectionSpec::new("memory", embedder.model(), embedder.dimensions(), Metric::Cosine);
//! let memory = Collection::open_or_create(&db, &spec).await?;
//! let project = projects::create(db.writer(), NewProject::new("shop", "/src/shop")).await?;
//! for text in ["Checkpoints are restored from the latest snapshot", "Prices are kept in cents"] {
//!     let vector = embedder.embed_one(text).await?;
//!     let mut tx = db.begin().await?;
//!     let e = episodes::create(&mut *tx, NewEpisode::new(&project.id, EpisodeType::Decision, text)).await?;
//!     memory.upsert(&mut tx, Item::new(SourceKind::Episode, &e.id, &vector)).await?;
//!     tx.commit().await?;
//! }
//!
//! let results = search(&db)
//!     .text("how are checkpoints restored")
//!     .embed_with(&embedder)
//!     .collection(&memory)
//!     .project(&project.id)
//!     .kinds([SourceKind::Episode])
//!     .mode(Mode::Hybrid)
//!     .limit(5)
//!     .explain(true)
//!     .execute()
//!     .await?;
//! let best = &results.hits[0];
//! assert!(best.snippet.as_deref().is_some_and(|s| s.contains("<mark>")));
//! assert!(best.explain.is_some_and(|e| e.fts.is_some() && e.vector.is_some()));
//! # Ok(()) }
//! ```

mod builder;
mod cursor;
mod error;
pub mod fusion;
mod hit;
mod rerank;

pub use builder::{MAX_CANDIDATES, Mode, Search, SearchResults, search};
pub use cursor::Cursor;
pub use error::{Result, SearchError};
pub use fusion::{Breakdown, Fused, Fusion, HitKey, LegHit, LegScore, Weights, fuse};
pub use hit::{Hit, Source};
pub use rerank::NameMatch;
