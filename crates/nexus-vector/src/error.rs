//! The crate's one error type, [`VectorError`], and [`VectorProblem`], what can be wrong with a
//! vector.

use nexus_db::{DbError, SourceKind};

/// Result alias used throughout nexus-vector.
pub type Result<T, E = VectorError> = std::result::Result<T, E>;

/// Everything that can go wrong in nexus-vector. Every variant names the collection (or the
/// row) it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VectorError {
    /// A collection name outside the allowed alphabet or length.
    #[error("invalid collection name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A collection spec that cannot describe an embedding space (zero dimensions, a binary
    /// collection whose dimensions are not a multiple of 8, …).
    #[error("collection {collection:?}: invalid spec: {reason}")]
    InvalidSpec {
        /// The collection's name.
        collection: String,
        /// What is wrong.
        reason: String,
    },
    /// The collection exists with another model, dimensions, metric or element type than the
    /// one asked for. Vectors of different embedding spaces are never mixed.
    #[error("collection {collection:?} exists with {field} {existing}, not {requested}")]
    SpecMismatch {
        /// The collection's name.
        collection: String,
        /// Which property differs (`model`, `dimensions`, `metric`, `element`, `int8_range`).
        field: &'static str,
        /// The registered value.
        existing: String,
        /// The value that was asked for.
        requested: String,
    },
    /// No collection with this name is registered.
    #[error("no vector collection named {name:?}")]
    UnknownCollection {
        /// The name that was looked up.
        name: String,
    },
    /// A vector that cannot be stored or searched with.
    #[error("collection {collection:?}: invalid vector for {subject}: {problem}")]
    InvalidVector {
        /// The collection's name.
        collection: String,
        /// Whose vector: `"the query"` or the source row, like `episode "0193…"`.
        subject: String,
        /// What is wrong with it.
        problem: VectorProblem,
    },
    /// The source row a vector was given for does not exist (vectors always belong to a row).
    #[error("{kind} {id:?} does not exist, so it cannot have a vector")]
    SourceNotFound {
        /// The row's kind.
        kind: SourceKind,
        /// The row's id.
        id: String,
    },
    /// Rows of this kind are searched by keywords only and have no vectors (transcript entries:
    /// there are too many, and the keyword index finds them).
    #[error("{kind} rows have no vectors; search them with the keyword leg")]
    NotEmbeddable {
        /// The row's kind.
        kind: SourceKind,
    },
    /// A KNN query with impossible parameters (k = 0, a negative maximum distance, …).
    #[error("collection {collection:?}: invalid query: {reason}")]
    InvalidQuery {
        /// The collection's name.
        collection: String,
        /// What is wrong.
        reason: String,
    },
    /// SQLite (or sqlite-vec) failed on a collection's vec0 table.
    #[error("collection {collection:?}: {operation} failed: {source}")]
    Sqlx {
        /// The collection's name.
        collection: String,
        /// What was being done (`"insert"`, `"knn"`, …).
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// An error from nexus-db (registry and key tables, transactions).
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What is wrong with a vector.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VectorProblem {
    /// It does not have the collection's number of dimensions.
    #[error("expected {expected} dimensions, got {actual}")]
    WrongLength {
        /// The collection's dimensions.
        expected: usize,
        /// The vector's length.
        actual: usize,
    },
    /// It contains a NaN or an infinity.
    #[error("element {index} is {value}, not a finite number")]
    NotFinite {
        /// Position of the first bad element.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// Every element is zero, so it has no direction (cosine collections only).
    #[error("a zero vector has no cosine distance to anything")]
    Zero,
}

impl VectorError {
    /// A [`VectorError::Sqlx`] for an `operation` on `collection`'s vec0 table.
    pub(crate) fn sqlx(collection: &str, operation: &'static str, source: sqlx::Error) -> Self {
        Self::Sqlx { collection: collection.to_owned(), operation, source }
    }
}
