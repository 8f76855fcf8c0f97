//! # nexus-fts
//!
//! Keyword search over the text a Nexus database stores, on SQLite's FTS5:
//!
//! * **Indexes** — one external-content FTS5 table per [`SourceKind`], created by the
//!   migrations and kept in sync by triggers: episodes (content, summary), code chunks (file,
//!   symbols, content, a camelCase-split copy, and the symbol's name, context and signature), requirements (description, user stories),
//!   tasks (name, description). The text is stored once, in the base tables.
//! * **Tokenising** — Porter stemming, Unicode case folding and diacritics removal for prose;
//!   `_ . / - :` split snake_case names and paths, and camelCase names are split in the code
//!   index, so `search builder` finds `HybridSearchBuilder`.
//! * **Query language** ([`query`]) — words, `"phrases"`, `prefix*`, `-excluded`, `OR`;
//!   anything else is text, so user input can never cause an FTS5 syntax error.
//! * **Ranking** ([`search`]) — BM25 with per-column [`FieldWeights`], filtered by project
//!   and kind in the same statement, with snippets, limit and offset.
//! * **Score lists** — each phrase's BM25 terms, kept in a process-wide cache between
//!   searches ([`set_cache_limit`], [`cache_stats`]) and filled ahead of them by [`warm`].
//! * **Maintenance** — [`rebuild`], [`optimize`], [`integrity_check`], [`stats`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use nexus_db::{Db, SourceKind, code_chunks, projects};
//! use nexus_fts::{FtsQuery, search};
//! let db = Db::in_memory().await?;
//! let p = projects::create(db.writer(), projects::NewProject::new("nexus", "/src/nexus")).await?;
//! let chunk = code_chunks::create(db.writer(), code_chunks::NewCodeChunk {
//!     id: None,
//!     project_id: p.id.clone(),
//!     file: "src/search.rs".into(),
//!     start_line: 1,
//!     end_line: 3,
//!     content: "pub struct HybridSearchBuilder { k: usize }".into(),
//!     symbols: vec!["HybridSearchBuilder".into()],
//!     chunk_type: "struct".into(),
//!     language: "rust".into(),
//!     complexity: None,
//!     hash: "h1".into(),
//!     context: None,
//!     signature: None,
//! }).await?;
//!
//! let query = FtsQuery::new("search builder").project(&p.id).kinds([SourceKind::CodeChunk]);
//! let hits = search(db.reader(), &query).await?;
//! assert_eq!(hits[0].id, chunk.id);
//! # Ok(()) }
//! ```
//!
//! See `docs/fts.md` for the design, the measured quality (SciFact) and speed.

mod cache;
mod error;
mod maintenance;
mod phrase_key;
pub mod query;
mod scores;
mod scratch;
mod search;
mod snippet;
mod tokens;
mod topk;
mod warm;
mod weights;

pub use cache::{CacheStats, DEFAULT_CACHE_BYTES, cache_stats, set_cache_limit};
pub use error::{FtsError, Result};
pub use maintenance::{IndexStats, index_name, integrity_check, optimize, rebuild, stats};
pub use nexus_db::SourceKind;
pub use query::{MAX_TERMS, MatchExpression, MatchMode};
pub use search::{
    FtsHit, FtsQuery, SnippetStyle, SnippetText, search, search_interruptible, snippets, snippets_of_rows,
};
pub use warm::{WARM_TERMS, Warmed, warm};
pub use weights::FieldWeights;
