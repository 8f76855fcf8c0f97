//! The crate's one error type, [`StoreError`].

/// Result alias used throughout nexus-store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in nexus-store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Walking the tree to index failed: the root is not a directory (from
    /// [`Store::index_dir`](crate::Store::index_dir)), or one path could not be read.
    #[error(transparent)]
    Code(#[from] nexus_code::CodeError),
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
    /// The artifact store failed (cleanup of artifacts removes their files).
    #[error(transparent)]
    Artifact(#[from] nexus_artifacts::ArtifactError),
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
}
