//! The crate's one error type, [`FtsError`].

use nexus_db::DbError;

/// Result alias used throughout nexus-fts.
pub type Result<T, E = FtsError> = std::result::Result<T, E>;

/// Everything that can go wrong in nexus-fts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FtsError {
    /// The query text has no word to search for: it is empty, only punctuation or symbols, or
    /// only `-excluded` words (a full-text index cannot list "everything except").
    #[error("the query has no word to search for")]
    EmptyQuery,
    /// A field weight is negative, infinite or NaN.
    #[error("invalid weight {value} for field {field}: weights must be finite and >= 0")]
    InvalidWeight {
        /// The field, as `kind.column` (for example `task.name`).
        field: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// FTS5's integrity check found that an index does not match its source table.
    /// [`crate::rebuild`] repairs it.
    #[error("{index}: the index does not match its source table: {message}")]
    Corrupt {
        /// The FTS5 table.
        index: &'static str,
        /// SQLite's message.
        message: String,
    },
    /// A database error, naming the index or table it concerns.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl FtsError {
    /// Wraps a raw sqlx error that happened while working on `index`.
    pub(crate) fn sqlx(index: &'static str, source: sqlx::Error) -> Self {
        Self::Db(DbError::from_sqlx(index, source))
    }
}
