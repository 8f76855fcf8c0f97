//! # nexus-store
//!
//! The façade an agent orchestrator imports: one [`Store`] handle gives the typed tables
//! ([`Store::db`] with the modules of [`db`]), hybrid search ([`Store::search`]), episodic
//! memory ([`Store::remember`], [`Store::recall`], [`Store::prune`]), the code index
//! ([`Store::index_dir`]) and [`Store::stats`].
//!
//! Project state (load/save, the task workflow, checkpoints and restore, continue points,
//! STATE.md) is the crate nexus-state, re-exported as [`state`]: call it with
//! [`Store::db`].
//!
//! The code index's front half is the crate nexus-code, re-exported as [`code`]: walking a
//! source tree
//! (honouring `.gitignore`, skipping binary and huge files), detecting each file's language and
//! splitting files into [`code::Chunk`]s — one per definition for Rust, Python,
//! TypeScript/TSX, JavaScript and Go (parsed with tree-sitter), one per section for Markdown,
//! line windows for everything else — ready to be stored as `code_chunks` rows.
//!
//! ```
//! use nexus_store::code::{self, SourceFile};
//!
//! let file = SourceFile::new("src/lib.rs", "/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");
//! let chunks = code::chunk_file(&file);
//! assert_eq!(chunks.len(), 1);
//! assert_eq!(chunks[0].symbols, ["add"]);
//! assert_eq!((chunks[0].start_line, chunks[0].end_line), (1, 4));
//! ```

mod access;
mod code_index;
mod documents;
mod error;
mod memory;
mod retention;
mod stats;
mod store;
mod warmer;

pub use code_index::{IndexProgress, IndexReport, IntoNewCodeChunk, Unreadable};
pub use error::{Result, StoreError};
pub use memory::{
    MAX_EPISODE_BYTES, PruneReport, RECALL_CANDIDATES, RecallOptions, Recalled, RetentionPolicy,
};
pub use nexus_artifacts as artifacts;
pub use nexus_code as code;
pub use nexus_db as db;
pub use nexus_embed as embed;
pub use nexus_search as search;
pub use nexus_state as state;
pub use retention::{CleanupPolicy, CleanupProgress, CleanupReport, Removed, Usage, cleanup, usage};
pub use stats::{StoreStats, TableCount};
pub use store::{
    ACCESS_FLUSH_INTERVAL, CODE_BLOCK_WEIGHT, CODE_NAME_MATCH, CODE_RRF_K, CODE_TEST_WEIGHT,
    CODE_VECTOR_WEIGHT, HASHING_VECTOR_WEIGHT, SEARCH_WARM_DELAY, Store, StoreBuilder, code_fusion,
    default_fusion,
};
