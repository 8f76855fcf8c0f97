//! The crate's one error type, [`StoreError`].

use std::path::PathBuf;

/// Result alias used throughout nexus-store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in nexus-store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The directory to index does not exist, cannot be resolved or is not a directory.
    #[error("cannot index {}: {source}", path.display())]
    InvalidRoot {
        /// The root that was given.
        path: PathBuf,
        /// Why it was rejected.
        #[source]
        source: std::io::Error,
    },
    /// Walking the tree failed at one path (a directory that cannot be listed, an unreadable
    /// ignore file, a loop). The walk goes on with the other paths.
    #[error("cannot walk {}: {source}", path.as_ref().map_or("<tree>".into(), |p| p.display().to_string()))]
    Walk {
        /// The path concerned, when known.
        path: Option<PathBuf>,
        /// The walker's error.
        #[source]
        source: ignore::Error,
    },
    /// A file could not be read. The walk goes on with the other files.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The file's path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The database failed (with the table it concerns).
    #[error(transparent)]
    Db(#[from] nexus_db::DbError),
    /// Embedding failed.
    #[error(transparent)]
    Embed(#[from] nexus_embed::EmbedError),
    /// The vector collection failed or rejected a vector.
    #[error(transparent)]
    Vector(#[from] nexus_vector::VectorError),
    /// A full-text index failed.
    #[error(transparent)]
    Fts(#[from] nexus_fts::FtsError),
    /// A search failed.
    #[error(transparent)]
    Search(#[from] nexus_search::SearchError),
    /// Content is larger than the store accepts.
    #[error("{what} is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A background task (walking or chunking) panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(String),
    /// A file's path is not valid UTF-8, so it cannot be stored as a relative path.
    #[error("path is not valid UTF-8: {}", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },
}
