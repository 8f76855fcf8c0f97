//! [`Db`]: the handle to one Nexus database — a single writer connection and a reader pool.
//!
//! SQLite allows many readers but one writer at a time. Instead of letting pooled connections
//! race for the write lock (and surface `SQLITE_BUSY` to callers), all writes go through one
//! dedicated writer connection, and write transactions start with `BEGIN IMMEDIATE` so they take
//! the lock up front. Queries go to a pool of `query_only` reader connections, which WAL lets
//! run concurrently with the writer.

use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tracing::{Instrument, debug, info_span, warn};

use crate::counts::{self, TableCounts};
use crate::error::{DbError, Result, sqlite_code};
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
    read_only: bool,
    /// Opened with `immutable=1` (a read-only file in a directory where the WAL index cannot be
    /// created): SQLite then reports the journal mode as `delete` whatever the file's is.
    immutable: bool,
}

/// Pool options of the single writer connection.
fn writer_pool(options: &DbOptions) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        // No ping before each transaction (see the reader pool in `Db::open_with`).
        .test_before_acquire(false)
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(options.acquire_timeout)
        .after_release(|conn, _| Box::pin(release_writer(conn)))
}

/// Opens the writer of a read-only database and returns it with the connect options its
/// readers must use. A WAL database needs its `-shm` file, which SQLite creates on first read;
/// where it cannot (a read-only directory, no other process has the file open), the file is
/// opened as immutable instead.
async fn open_read_only_writer(
    options: &DbOptions,
    connect: SqliteConnectOptions,
) -> std::result::Result<(SqlitePool, SqliteConnectOptions, bool), sqlx::Error> {
    let connect = connect.read_only(true);
    let attempt = async {
        let writer = writer_pool(options).connect_with(connect.clone()).await?;
        match sqlx::query("SELECT count(*) FROM sqlite_schema").execute(&writer).await {
            Ok(_) => Ok(writer),
            Err(e) => {
                writer.close().await;
                Err(e)
            }
        }
    };
    match attempt.await {
        Ok(writer) => Ok((writer, connect, false)),
        Err(e) if sqlite_code(&e).is_some_and(|code| matches!(code & 0xff, 8 | 14)) => {
            debug!(error = %e, "cannot open the WAL index read-only; opening the file as immutable");
            let connect = connect.immutable(true);
            let writer = writer_pool(options).connect_with(connect.clone()).await?;
            Ok((writer, connect, true))
        }
        Err(e) => Err(e),
    }
}

/// Puts a database file in WAL mode (a no-op when it already is; the mode is stored in the file).
///
/// Changing the journal mode takes an exclusive lock that SQLite's busy handler does not wait
/// for, so processes creating the same fresh file at once would fail with "database is locked":
/// retry, with jitter, for up to `patience` (the busy timeout).
async fn enable_wal(writer: &SqlitePool, patience: std::time::Duration) -> Result<()> {
    let started = std::time::Instant::now();
    loop {
        let error = match sqlx::query_scalar::<_, String>("PRAGMA journal_mode = WAL").fetch_one(writer).await
        {
            Ok(mode) => {
                debug!(%mode, "journal mode");
                return Ok(());
            }
            Err(e) => DbError::from_sqlx("journal_mode", e),
        };
        if !error.is_busy() || started.elapsed() >= patience {
            return Err(error);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5 + fastrand::u64(..45))).await;
    }
}

/// Decides whether the writer connection goes back to the pool after use.
///
/// sqlx keeps its own count of open transactions. When a `COMMIT` fails (a full disk, an I/O
/// error) SQLite has already rolled the transaction back, the `ROLLBACK` that sqlx sends when
/// the `Transaction` is dropped then fails too, and sqlx's count stays at one: every later
/// `begin()` on that connection would fail with "non-zero transaction depth". A connection in
/// that state is closed here, and the pool opens a fresh one for the next write.
async fn release_writer(conn: &mut SqliteConnection) -> std::result::Result<bool, sqlx::Error> {
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // A dropped `Transaction` queues its rollback on the connection's worker; wait for it.
    conn.ping().await?;
    if conn.is_in_transaction() {
        warn!("writer connection left inside a failed transaction; replacing it");
        return Ok(false);
    }
    Ok(true)
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
        extension::configure_sqlite()?;
        let location_name = options.display_location();
        let span = info_span!("nexus_db.open", location = %location_name);
        async move {
            let open_err = |source| DbError::Open { path: location_name.clone(), source };
            let memory_name = format!("nexus-mem-{}", crate::new_id());
            let connect = options.connect_options(&memory_name);

            // The writer: exactly one connection, kept open for the life of the Db (which also
            // keeps an in-memory database alive).
            let (writer, connect, immutable) = if options.read_only {
                open_read_only_writer(&options, connect).await.map_err(open_err)?
            } else {
                (writer_pool(&options).connect_with(connect.clone()).await.map_err(open_err)?, connect, false)
            };

            if !options.read_only && matches!(options.location, Location::File(_)) {
                enable_wal(&writer, options.busy_timeout).await?;
            }

            if options.read_only {
                // Nothing may be written, so nothing is migrated: the file must be current.
                if migrate::state(&writer).await? != migrate::State::Current {
                    return Err(DbError::SchemaNotCurrent {
                        path: location_name.clone(),
                        found: migrate::applied_version(&writer).await?,
                        latest: migrate::latest_version(),
                    });
                }
            } else if options.run_migrations {
                let version = migrate::run(&writer).await?;
                debug!(?version, "migrations applied");
            }

            // Readers of an in-memory database keep one connection open for good: the writer
            // may be replaced after a failed commit (see `release_writer`), and the shared
            // in-memory database lives only while some connection to it is open.
            let keep_one = u32::from(matches!(options.location, Location::InMemory));
            // No ping before handing out a reader: a connection to a local file does not go
            // stale, and the ping is a round trip to the connection's thread on every acquire
            // (a search takes three or four readers).
            let reader = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(options.readers)
                .min_connections(keep_one)
                .idle_timeout((keep_one == 0).then_some(std::time::Duration::from_secs(600)))
                .max_lifetime((keep_one == 0).then_some(std::time::Duration::from_secs(1800)))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect.pragma("query_only", "ON"))
                .await
                .map_err(open_err)?;

            Ok(Self {
                writer,
                reader,
                location: Arc::new(options.location),
                read_only: options.read_only,
                immutable,
            })
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
        // An immutable handle reports the journal mode as `delete`; the file's header says
        // whether it is in WAL mode (bytes 18 and 19 are 2).
        let wal_in_header = match &*self.location {
            Location::File(path) if self.immutable => {
                let mut header = [0u8; 20];
                let read = std::fs::File::open(path)
                    .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
                read.is_ok() && header[18] == 2 && header[19] == 2
            }
            _ => false,
        };
        let in_memory = matches!(*self.location, Location::InMemory);
        health::check(&self.reader, in_memory, wal_in_header).await
    }

    /// Counts the rows of every table of the Nexus schema, the documents and bytes of each
    /// full-text index and the vectors and bytes of each vector collection's table, and measures
    /// the database: typed data for reports (it reads every table; not for every request).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> nexus_db::Result<()> {
    /// let db = nexus_db::Db::in_memory().await?;
    /// let counts = db.table_counts().await?;
    /// assert!(counts.tables.iter().any(|t| t.table == "projects" && t.rows == 0));
    /// assert_eq!(counts.fts.len(), 6);
    /// # Ok(()) }
    /// ```
    pub async fn table_counts(&self) -> Result<TableCounts> {
        counts::count(&self.reader).await
    }

    /// True when this handle was opened read-only ([`DbOptions::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Closes the database cleanly: readers first, then a `wal_checkpoint(TRUNCATE)` on the
    /// writer so every committed page is in the main file and the `-wal` file is empty, then
    /// the writer. Other clones of this handle stop working.
    ///
    /// The checkpoint is an optimisation, not a condition of durability (committed data is safe
    /// in the WAL): a read-only handle skips it, and when another process is reading, the file
    /// cannot be written or the disk is full, the WAL is left for a later checkpoint and
    /// closing still succeeds.
    pub async fn close(self) -> Result<()> {
        self.reader.close().await;
        if matches!(*self.location, Location::File(_)) && !self.read_only {
            match self.checkpoint(CheckpointMode::Truncate).await {
                Ok(done) => debug!(?done, "wal checkpoint on close"),
                Err(e) if e.is_busy() || e.is_read_only() || e.is_full() => {
                    warn!(error = %e, "WAL not checkpointed on close; its commits are safe and are checkpointed later");
                }
                Err(e) => {
                    self.writer.close().await;
                    return Err(e);
                }
            }
        }
        self.writer.close().await;
        Ok(())
    }

    /// Copies the pages committed to the WAL back into the main file (`PRAGMA
    /// wal_checkpoint`), on the writer connection. SQLite does this by itself whenever the WAL
    /// reaches 1,000 pages; call it to have the main file alone hold every commit (before
    /// copying it, say) or, with [`CheckpointMode::Truncate`], to empty the `-wal` file as
    /// [`Db::close`] does.
    ///
    /// [`CheckpointMode::Passive`] never waits: pages a reader still needs (it is reading a
    /// snapshot from before them) stay in the WAL, and [`WalCheckpoint::busy`] says so.
    /// `Truncate` waits for readers (up to the busy timeout); when one keeps reading it returns
    /// with `busy` set and the `-wal` file as it was.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> nexus_db::Result<()> {
    /// use nexus_db::{CheckpointMode, Db};
    /// let dir = tempfile::tempdir().expect("a temporary directory");
    /// let db = Db::open(dir.path().join("nexus.db")).await?;
    /// let done = db.checkpoint(CheckpointMode::Passive).await?;
    /// assert_eq!(done.wal_pages, done.checkpointed_pages);
    /// db.close().await?;
    /// # Ok(()) }
    /// ```
    pub async fn checkpoint(&self, mode: CheckpointMode) -> Result<WalCheckpoint> {
        let sql = match mode {
            CheckpointMode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
            CheckpointMode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
        };
        let (busy, wal_pages, checkpointed_pages): (i64, i64, i64) = sqlx::query_as(sql)
            .fetch_one(&self.writer)
            .await
            .map_err(|e| DbError::from_sqlx("wal_checkpoint", e))?;
        Ok(WalCheckpoint { busy: busy != 0, wal_pages, checkpointed_pages })
    }
}

/// How much a checkpoint ([`Db::checkpoint`]) may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointMode {
    /// As many pages as no reader needs, without waiting for anyone.
    Passive,
    /// Every page, waiting for readers, then empties the `-wal` file (what [`Db::close`] does).
    Truncate,
}

/// What a checkpoint ([`Db::checkpoint`]) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// The checkpoint could not finish: a reader needed pages, or another connection held the
    /// lock.
    pub busy: bool,
    /// Pages in the WAL (`-1`: the database has no WAL to checkpoint).
    pub wal_pages: i64,
    /// Of those, pages now also in the main file (`-1`: no WAL).
    pub checkpointed_pages: i64,
}
