//! [`ArtifactError`]: the one error type of the artifact store.

use std::path::PathBuf;

use nexus_db::{ArtifactId, DbError};

/// Everything that can go wrong storing, reading or checking artifacts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArtifactError {
    /// A database operation failed (including `NotFound` for an unknown artifact or project).
    #[error(transparent)]
    Db(#[from] DbError),
    /// A file operation under the artifact root failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("creating", "renaming", …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Reading the content handed to `put` failed (nothing was stored).
    #[error("reading the artifact's content: {0}")]
    Read(#[source] std::io::Error),
    /// An artifact name that could leave the artifact root or is not usable as a name.
    #[error("invalid artifact name {name:?}: {reason}")]
    BadName {
        /// The refused name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A project id that cannot be a single directory name under the root (such as `..`).
    #[error("project id {0:?} cannot name a directory under the artifact root")]
    BadProjectId(String),
    /// The content is larger than the store's limit (nothing was stored).
    #[error("artifact too large: {size} bytes or more, the limit is {limit}")]
    TooLarge {
        /// The size declared or read so far when it was refused.
        size: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The artifact's file is gone.
    #[error("artifact {id}: its file {} is missing", path.display())]
    Missing {
        /// The artifact.
        id: ArtifactId,
        /// Where its file should be.
        path: PathBuf,
    },
    /// The database is in memory, so there is no default root beside it: give one.
    #[error("the database is in memory: the artifact store needs an explicit root")]
    NoRoot,
}

/// The crate's result type.
pub type Result<T, E = ArtifactError> = std::result::Result<T, E>;

/// Attaches a file operation and path to an [`std::io::Error`].
pub(crate) trait IoContext<T> {
    /// Maps the error to [`ArtifactError::Io`].
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| ArtifactError::Io { action, path: path.into(), source })
    }
}
