//! [`Db`]: the handle to one Nexus database — a single writer connection and a reader pool.
//!
//! SQLite allows many readers but one writer at a time. Instead of letting pooled connections
//! race for the write lock (and surface `SQLITE_BUSY` to callers), all writes go through one
//! dedicated writer connection, and write transactions start with `BEGIN IMMEDIATE` so they take
//! the lock up front. Queries go to a pool of `query_only` reader connections, which WAL lets
//! run concurrently with the writer.

use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::sqlite::SqlitePoolOptions;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use tracing::{Instrument, debug, info_span};

use crate::error::{DbError, Result};
use crate::health::{self, Health};
use crate::options::{DbOptions, Location};
use crate::{extension, migrate};

/// An open Nexus database. Cheap to clone; clones share the same pools.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> nexus_db::Result<()> {
/// use nexus_db::{Db, projects::{self, NewProject}};
/// let db = Db::in_memory().await?;
/// let project = projects::create(db.writer(), NewProject::new("demo", "/src/demo")).await?;
/// assert_eq!(projects::get(db.reader(), &project.id).await?.name, "demo");
/// db.close().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Db {
    writer: SqlitePool,
    reader: SqlitePool,
    location: Arc<Location>,
}

impl Db {
    /// Opens (creating if needed) the database file at `path` with default options and applies
    /// pending migrations.
    pub async fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        Self::open_with(DbOptions::file(path)).await
    }

    /// A fresh in-memory database, migrated, shared by all of this handle's connections.
    pub async fn in_memory() -> Result<Self> {
        Self::open_with(DbOptions::in_memory()).await
    }

    /// Opens a database with explicit options.
    pub async fn open_with(options: DbOptions) -> Result<Self> {
        options.validate()?;
        extension::register_sqlite_vec()?;
        let location_name = options.display_location();
        let span = info_span!("nexus_db.open", location = %location_name);
        async move {
            let open_err = |source| DbError::Open { path: location_name.clone(), source };
            let memory_name = format!("nexus-mem-{}", crate::new_id());
            let connect = options.connect_options(&memory_name);

            // The writer: exactly one connection, kept open for the life of the Db (which also
            // keeps an in-memory database alive).
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect.clone())
                .await
                .map_err(open_err)?;

            if options.run_migrations {
                let version = migrate::run(&writer).await?;
                debug!(?version, "migrations applied");
            }

            let reader = SqlitePoolOptions::new()
                .max_connections(options.readers)
                .min_connections(0)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect.pragma("query_only", "ON"))
                .await
                .map_err(open_err)?;

            Ok(Self { writer, reader, location: Arc::new(options.location) })
        }
        .instrument(span)
        .await
    }

    /// The pool with the single writer connection. Use it (or [`Db::begin`]) for every
    /// statement that changes data.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// The pool of `query_only` reader connections. Use it for queries.
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Where this database lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`) on the writer connection.
    ///
    /// The writer is a single connection: while a transaction is open, other writes wait for
    /// it, so do not write through [`Db::writer`] while holding one (use the transaction).
    pub async fn begin(&self) -> Result<Transaction<'static, Sqlite>> {
        self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(|e| DbError::from_sqlx("begin", e))
    }

    /// Runs `work` in a write transaction: committed when it returns `Ok`, rolled back when it
    /// returns `Err` (or panics, or is cancelled).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> nexus_db::Result<()> {
    /// use nexus_db::{Db, projects::{self, NewProject}};
    /// let db = Db::in_memory().await?;
    /// let id = db
    ///     .transaction(|tx| Box::pin(async move {
    ///         let project = projects::create(&mut *tx, NewProject::new("a", "/a")).await?;
    ///         Ok::<_, nexus_db::DbError>(project.id)
    ///     }))
    ///     .await?;
    /// assert!(projects::get(db.reader(), &id).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub async fn transaction<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, std::result::Result<T, E>>,
        E: From<DbError>,
    {
        let mut tx = self.begin().await?;
        match work(&mut tx).await {
            Ok(value) => {
                tx.commit().await.map_err(|e| DbError::from_sqlx("commit", e))?;
                Ok(value)
            }
            Err(err) => {
                tx.rollback().await.map_err(|e| DbError::from_sqlx("rollback", e))?;
                Err(err)
            }
        }
    }

    /// Applies pending migrations and returns the version the database is now at.
    pub async fn migrate(&self) -> Result<Option<i64>> {
        migrate::run(&self.writer).await
    }

    /// Checks that a reader connection answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(|e| DbError::from_sqlx("ping", e))?;
        Ok(())
    }

    /// Reports pragmas, tables, versions and migration state.
    pub async fn health(&self) -> Result<Health> {
        health::check(&self.reader, matches!(*self.location, Location::InMemory)).await
    }

    /// Closes the database cleanly: readers first, then a `wal_checkpoint(TRUNCATE)` on the
    /// writer so every committed page is in the main file and the `-wal` file is empty, then
    /// the writer. Other clones of this handle stop working.
    pub async fn close(self) -> Result<()> {
        self.reader.close().await;
        if matches!(*self.location, Location::File(_)) {
            let (busy, log, checkpointed): (i64, i64, i64) =
                sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                    .fetch_one(&self.writer)
                    .await
                    .map_err(|e| DbError::from_sqlx("wal_checkpoint", e))?;
            debug!(busy, log, checkpointed, "wal checkpoint on close");
        }
        self.writer.close().await;
        Ok(())
    }
}
