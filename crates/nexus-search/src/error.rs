//! [`SearchError`]: everything a search can fail with, by cause.

/// Result alias for nexus-search.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The mode needs query text (`FtsOnly`, `Hybrid`) and none was given.
    #[error("{mode:?} search needs query text (.text(..))")]
    MissingText {
        /// The requested mode.
        mode: crate::Mode,
    },
    /// The mode needs a query vector and there is neither an embedding nor an embedder.
    /// Hybrid search never silently falls back to keywords only: ask for `Mode::FtsOnly`.
    #[error(
        "{mode:?} search needs a query vector: pass .embedding(..) or .embed_with(..), or use Mode::FtsOnly"
    )]
    NoEmbedding {
        /// The requested mode.
        mode: crate::Mode,
    },
    /// The mode needs a vector collection and none was given.
    #[error("{mode:?} search needs a vector collection (.collection(..))")]
    NoCollection {
        /// The requested mode.
        mode: crate::Mode,
    },
    /// The embedder's vectors do not belong to the collection's space.
    #[error(
        "embedder {embedder} ({embedder_dims} dims) does not match collection {collection} ({collection_model}, {collection_dims} dims)"
    )]
    EmbedderMismatch {
        /// The embedder's model.
        embedder: String,
        /// The embedder's dimensions.
        embedder_dims: usize,
        /// The collection's name.
        collection: String,
        /// The collection's model.
        collection_model: String,
        /// The collection's dimensions.
        collection_dims: usize,
    },
    /// A builder option is out of range.
    #[error("invalid search option {option}: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// The pagination cursor is not one this crate issued (or is from another query shape).
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// The keyword leg failed (including `EmptyQuery` in `FtsOnly` mode).
    #[error(transparent)]
    Fts(#[from] nexus_fts::FtsError),
    /// The vector leg failed (bad vector, dimension mismatch, …).
    #[error(transparent)]
    Vector(#[from] nexus_vector::VectorError),
    /// Embedding the query text failed.
    #[error(transparent)]
    Embed(#[from] nexus_embed::EmbedError),
    /// Loading the hits' rows failed.
    #[error(transparent)]
    Db(#[from] nexus_db::DbError),
}
