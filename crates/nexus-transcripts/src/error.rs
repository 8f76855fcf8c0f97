//! [`TranscriptError`]: database errors, and the line of a JSONL file that could not be read.

use nexus_db::DbError;

/// The crate's result type.
pub type Result<T, E = TranscriptError> = std::result::Result<T, E>;

/// Errors of nexus-transcripts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranscriptError {
    /// A database error (with the table it concerns).
    #[error(transparent)]
    Db(#[from] DbError),
    /// A line of a JSONL file is not an entry; nothing of the file was written.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The search text has nothing to search for, or is not a valid query.
    #[error(transparent)]
    Query(#[from] nexus_fts::FtsError),
    /// Reading the input failed.
    #[error("reading the transcript: {0}")]
    Io(#[from] std::io::Error),
}
