//! The crate's one error type, [`CodeError`]: what can go wrong while walking a tree.
//! Chunking never fails.

use std::path::PathBuf;

/// Result alias used throughout nexus-code.
pub type Result<T, E = CodeError> = std::result::Result<T, E>;

/// Everything that can go wrong in nexus-code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodeError {
    /// The directory to walk does not exist, cannot be resolved or is not a directory.
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
    /// A file's path is not valid UTF-8, so it cannot be stored as a relative path. The walk
    /// goes on with the other files.
    #[error("path is not valid UTF-8: {}", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },
}
