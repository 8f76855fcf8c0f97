//! A migrated database file in a temp dir, and row builders every test needs.

use std::path::{Path, PathBuf};

use nexus_db::{Db, DbOptions, ProjectId, projects};

use crate::TestkitError;

/// A migrated [`Db`] on a file in a temp dir; the dir is deleted when this is dropped, so keep
/// it alive as long as the database is used.
pub struct TempDb {
    db: Db,
    path: PathBuf,
    /// Deleted on drop; declared after `db` so the pools close first.
    dir: tempfile::TempDir,
}

impl TempDb {
    /// Opens (creates and migrates) `nexus.db` in a fresh temp dir.
    pub async fn new() -> Result<Self, TestkitError> {
        Self::with_options(|options| options).await
    }

    /// Like [`TempDb::new`], with the file's default [`DbOptions`] adjusted by `configure`
    /// (e.g. `|o| o.readers(4)`).
    pub async fn with_options(configure: impl FnOnce(DbOptions) -> DbOptions) -> Result<Self, TestkitError> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("nexus.db");
        let db = Db::open_with(configure(DbOptions::file(&path))).await?;
        Ok(Self { db, path, dir })
    }

    /// The open database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temp dir holding the database file (other files of a test may go there too).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// A `TempDb` is used where a `&Db` is expected (`&temp`, `temp.writer()`).
impl std::ops::Deref for TempDb {
    type Target = Db;

    fn deref(&self) -> &Db {
        &self.db
    }
}

/// Creates a project named `name` (rooted at `/src/{name}`) and returns its id.
pub async fn project(db: &Db, name: &str) -> Result<ProjectId, TestkitError> {
    Ok(projects::create(db.writer(), projects::NewProject::new(name, format!("/src/{name}"))).await?.id)
}
