//! [`DbOptions`]: where the database lives and how its connections are configured.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteSynchronous};

use crate::error::{DbError, Result};

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A database file (created when missing).
    File(PathBuf),
    /// A private in-memory database, shared by every connection of one [`crate::Db`].
    /// It disappears when the `Db` is closed.
    InMemory,
}

/// The `synchronous` pragma: how hard SQLite works to survive power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// No fsync at all; fastest, may lose or corrupt on power loss.
    Off,
    /// With WAL, durable across application crashes; a power loss may lose the last commits
    /// but never corrupts. The default.
    Normal,
    /// fsync the WAL on every commit.
    Full,
}

/// How to open a [`crate::Db`]. Start from [`DbOptions::file`] or [`DbOptions::in_memory`].
///
/// ```
/// use std::time::Duration;
/// use nexus_db::DbOptions;
/// let options = DbOptions::file("nexus.db")
///     .readers(8)
///     .busy_timeout(Duration::from_secs(10))
///     .cache_size_kib(64 * 1024);
/// assert_eq!(options.max_readers(), 8);
/// ```
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub(crate) location: Location,
    pub(crate) readers: u32,
    pub(crate) busy_timeout: Duration,
    pub(crate) synchronous: Synchronous,
    pub(crate) cache_size_kib: u32,
    pub(crate) mmap_size: u64,
    pub(crate) temp_store_memory: bool,
    pub(crate) run_migrations: bool,
    pub(crate) acquire_timeout: Duration,
    pub(crate) read_only: bool,
    pub(crate) create_if_missing: bool,
    pub(crate) row_buffer: usize,
}

impl DbOptions {
    fn with_location(location: Location) -> Self {
        // Two per core: a reader sits idle while the task holding it works between statements
        // (each statement is a hand-off to the connection's thread and back), so one per core
        // leaves cores idle under concurrent searches (docs/server.md, "Sixth session").
        let readers =
            std::thread::available_parallelism().map_or(4, |n| n.get() as u32).saturating_mul(2).clamp(4, 16);
        Self {
            location,
            readers,
            busy_timeout: Duration::from_secs(30),
            synchronous: Synchronous::Normal,
            cache_size_kib: 32 * 1024,
            mmap_size: 256 * 1024 * 1024,
            temp_store_memory: true,
            run_migrations: true,
            acquire_timeout: Duration::from_secs(60),
            read_only: false,
            create_if_missing: true,
            row_buffer: 256,
        }
    }

    /// A database file at `path`, created when missing.
    pub fn file(path: impl AsRef<Path>) -> Self {
        Self::with_location(Location::File(path.as_ref().to_path_buf()))
    }

    /// A private in-memory database (for tests and throwaway work).
    pub fn in_memory() -> Self {
        Self::with_location(Location::InMemory)
    }

    /// Maximum number of reader connections (default: twice the available cores, 4 to 16).
    /// There is always exactly one writer connection besides them.
    pub fn readers(mut self, readers: u32) -> Self {
        self.readers = readers;
        self
    }

    /// How long a connection waits on a lock held by another process before failing
    /// (default 30 s). Within one `Db`, writes are serialised and never wait on each other.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How long a caller waits for a pooled connection (default 60 s).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The `synchronous` pragma (default [`Synchronous::Normal`], safe with WAL).
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Page cache per connection, in KiB (default 32 MiB).
    pub fn cache_size_kib(mut self, kib: u32) -> Self {
        self.cache_size_kib = kib;
        self
    }

    /// Memory-mapped I/O size in bytes (default 256 MiB; 0 turns it off).
    pub fn mmap_size(mut self, bytes: u64) -> Self {
        self.mmap_size = bytes;
        self
    }

    /// Keep temporary tables and indices in memory (default true).
    pub fn temp_store_memory(mut self, on: bool) -> Self {
        self.temp_store_memory = on;
        self
    }

    /// Apply the embedded migrations on open (default true). Turn off when migrations are
    /// run separately, for example with `sqlx migrate run`.
    pub fn run_migrations(mut self, run: bool) -> Self {
        self.run_migrations = run;
        self
    }

    /// Open the file read-only (default false): nothing is created, migrated or written
    /// (writes fail with a read-only error), the file must already be at the latest migration
    /// ([`crate::DbError::SchemaNotCurrent`] otherwise), and closing does not checkpoint. Works on a
    /// file the process may not write, and while another process holds a write transaction.
    /// In a directory where SQLite cannot create the `-shm` file, the database is opened as
    /// immutable (no other process may then change it while it is open).
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Create the file when it does not exist (default true; never when read-only). With
    /// `false`, opening a missing file fails.
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// Rows a connection's SQLite thread may read ahead of the caller (default 256; sqlx's own
    /// default is 50). Each connection runs SQLite on a thread of its own and hands rows over
    /// through a bounded channel; when the channel is full the two threads take turns, which
    /// costs a wake-up per handful of rows. A larger buffer lets a long result (a project's
    /// 10,000 tasks) cross in a few turns, at the cost of holding up to this many rows of a
    /// streamed query in memory.
    pub fn row_buffer(mut self, rows: usize) -> Self {
        self.row_buffer = rows;
        self
    }

    /// True when the database is to be opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The configured location.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The configured maximum number of readers.
    pub fn max_readers(&self) -> u32 {
        self.readers
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.readers == 0 {
            return Err(DbError::InvalidOption { option: "readers", reason: "must be at least 1".into() });
        }
        if self.row_buffer == 0 {
            return Err(DbError::InvalidOption { option: "row_buffer", reason: "must be at least 1".into() });
        }
        if self.cache_size_kib == 0 {
            return Err(DbError::InvalidOption {
                option: "cache_size_kib",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// A human-readable name of the location, for errors and logs.
    pub(crate) fn display_location(&self) -> String {
        match &self.location {
            Location::File(path) => path.display().to_string(),
            Location::InMemory => ":memory:".to_owned(),
        }
    }

    /// Connect options shared by readers and the writer. `memory_name` names the shared
    /// in-memory database when the location is [`Location::InMemory`].
    pub(crate) fn connect_options(&self, memory_name: &str) -> SqliteConnectOptions {
        let base = match &self.location {
            // A read-only connection cannot switch the journal mode; the file already has it.
            Location::File(path) if self.read_only => SqliteConnectOptions::new().filename(path),
            // WAL is switched on by `Db::open_with` after connecting (see `enable_wal` there): the
            // switch needs a lock SQLite's busy handler does not wait for.
            Location::File(path) => {
                SqliteConnectOptions::new().filename(path).create_if_missing(self.create_if_missing)
            }
            // A named in-memory database with a shared cache: every connection of this Db sees
            // the same data. WAL does not apply to memory databases.
            Location::InMemory => SqliteConnectOptions::new()
                .filename(format!("file:{memory_name}"))
                .in_memory(true)
                .shared_cache(true),
        };
        base.foreign_keys(true)
            .busy_timeout(self.busy_timeout)
            .synchronous(match self.synchronous {
                Synchronous::Off => SqliteSynchronous::Off,
                Synchronous::Normal => SqliteSynchronous::Normal,
                Synchronous::Full => SqliteSynchronous::Full,
            })
            .pragma("cache_size", format!("-{}", self.cache_size_kib))
            .pragma("mmap_size", self.mmap_size.to_string())
            .pragma("temp_store", if self.temp_store_memory { "MEMORY" } else { "DEFAULT" })
            // Delete triggers also fire for rows that `INSERT OR REPLACE` removes, so the
            // trigger-maintained full-text indexes (migrations/0003_fts.sql) stay in sync.
            .pragma("recursive_triggers", "ON")
            .row_buffer_size(self.row_buffer)
    }
}
