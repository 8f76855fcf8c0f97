//! The one error type of the fixtures.

/// Why a fixture could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// Creating a temp dir or file failed.
    #[error("testkit I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Opening, migrating or writing the database failed.
    #[error("testkit database: {0}")]
    Db(#[from] nexus_db::DbError),
}
