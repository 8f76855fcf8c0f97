//! [`ArchiveError`]: the one error type of archives, backups, checks and exports.

use std::path::PathBuf;

use nexus_artifacts::ArtifactError;
use nexus_db::DbError;
use nexus_vector::VectorError;

/// Everything that can go wrong exporting, importing, backing up, checking or exporting for
/// people. Errors about an archive's content name the member (`projects/<id>/tables/tasks.jsonl`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// A database operation failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The artifact store failed.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// A vector collection failed.
    #[error(transparent)]
    Vector(#[from] VectorError),
    /// A full-text index operation failed.
    #[error(transparent)]
    Fts(#[from] nexus_fts::FtsError),
    /// A file operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing the archive (or an export) to its destination failed.
    #[error("writing {what}: {source}")]
    Write {
        /// What was being written.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The archive ends before `member` is complete (or before the manifest's members are all
    /// there).
    #[error("archive truncated: member {member} is incomplete or missing ({detail})")]
    Truncated {
        /// The member being read.
        member: String,
        /// What was found.
        detail: String,
    },
    /// The archive's bytes are damaged where `member` is (a compressed or tar block that
    /// does not decode).
    #[error("archive damaged at member {member}: {detail}")]
    Damaged {
        /// The member being read (or the one after the last good one).
        member: String,
        /// The decoder's message.
        detail: String,
    },
    /// A member's SHA-256 is not the manifest's.
    #[error("member {member}: SHA-256 {actual} differs from the manifest's {expected}")]
    HashMismatch {
        /// The member.
        member: String,
        /// The manifest's digest.
        expected: String,
        /// The digest of the bytes read.
        actual: String,
    },
    /// A member's size is not the manifest's (a member larger than announced is refused before
    /// its bytes are read).
    #[error("member {member}: {actual} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// The member.
        member: String,
        /// The manifest's size.
        expected: u64,
        /// The size in the archive.
        actual: u64,
    },
    /// A member the manifest does not list, or a manifest that is missing or unreadable.
    #[error("member {member}: {detail}")]
    BadMember {
        /// The member.
        member: String,
        /// What is wrong.
        detail: String,
    },
    /// The archive's format version is not one this build reads.
    #[error("unknown archive format version {found} (this build reads version {supported})")]
    UnknownFormat {
        /// The archive's version.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The archive was written by a database at a migration this build does not have.
    #[error("archive schema is at migration {archive}, newer than this build's {supported}: upgrade Nexus")]
    NewerSchema {
        /// The archive's migration version.
        archive: i64,
        /// This build's latest migration.
        supported: i64,
    },
    /// A row of a member cannot be stored (a column this database does not have, a value of
    /// the wrong shape, a constraint violated).
    #[error("member {member}, row {row}: {detail}")]
    BadRow {
        /// The member.
        member: String,
        /// The row's line number (1-based).
        row: u64,
        /// What is wrong.
        detail: String,
    },
    /// A project of the archive is already in the database (on-conflict `fail`).
    #[error("project {id} ({name:?}) is already in the database (use --on-conflict skip, replace or copy)")]
    Conflict {
        /// The archived project's id.
        id: String,
        /// Its name.
        name: String,
    },
    /// The archive's vector collection exists here with another model or dimensions.
    #[error("vector collection {name}: the archive's vectors are {archive}, the database's {database}")]
    EmbedderMismatch {
        /// The collection.
        name: String,
        /// The archive's model and dimensions.
        archive: String,
        /// The database's.
        database: String,
    },
    /// The database has a table the archive format does not know: this build cannot say
    /// whether it belongs to a project, so it refuses to export rather than drop it.
    #[error("table {0} is not known to the archive format (add it to nexus-archive's catalog)")]
    UnknownTable(String),
    /// An unknown table name was asked for.
    #[error("unknown table {0:?} (tasks, features, requirements, episodes, metrics, transcripts)")]
    UnknownExportTable(String),
    /// The operation needs a database file (backup of an in-memory database).
    #[error("the database is in memory: {0}")]
    InMemory(&'static str),
    /// The destination of a backup already exists.
    #[error("{} already exists: choose a new path", .0.display())]
    Exists(PathBuf),
    /// A blocking task failed to run.
    #[error("background task failed: {0}")]
    Join(String),
}

/// The crate's result type.
pub type Result<T, E = ArchiveError> = std::result::Result<T, E>;

/// Attaches a file operation and path to an [`std::io::Error`].
pub(crate) trait IoContext<T> {
    /// Maps the error to [`ArchiveError::Io`].
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io(self, action: &'static str, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| ArchiveError::Io { action, path: path.into(), source })
    }
}

/// Maps a sqlx error on `table` to [`ArchiveError::Db`].
pub(crate) fn sql(table: &'static str) -> impl Fn(sqlx::Error) -> ArchiveError {
    move |e| ArchiveError::Db(DbError::from_sqlx(table, e))
}

/// Runs blocking work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| ArchiveError::Join(e.to_string()))?
}
