//! [`InterruptGuard`]: a pooled connection whose running statement is interrupted when the
//! guard is dropped, and [`interruptible`], which runs a read on one.
//!
//! Dropping a sqlx future does not stop SQLite: the connection's worker thread keeps stepping
//! the statement until it finishes, and the connection stays checked out until then. A slow
//! search that a caller gave up on (a dropped future, a `tokio::time::timeout`) would hold a
//! reader for its whole run and starve the next query. Run such reads through this module:
//! when the guard goes away before the statement ends, `sqlite3_interrupt` stops it, the
//! statement fails with `SQLITE_INTERRUPT` (which nobody awaits any more), and the connection
//! returns to the pool as soon as SQLite has unwound.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> nexus_db::Result<()> {
//! use nexus_db::{Db, interruptible};
//! let db = Db::in_memory().await?;
//! let n: i64 = interruptible(db.reader(), |conn| {
//!     Box::pin(async move {
//!         let (n,): (i64,) = sqlx::query_as("SELECT 40 + 2").fetch_one(conn).await?;
//!         Ok::<_, nexus_db::DbError>(n)
//!     })
//! })
//! .await?;
//! assert_eq!(n, 42);
//! # Ok(()) }
//! ```

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Sqlite, SqliteConnection, SqlitePool};
use tracing::debug;

use crate::error::{DbError, Result};
use crate::extension::RawInterrupt;

/// How often a dropped guard repeats the interrupt until the connection answers (covers a
/// statement that had not quite started when the guard was dropped).
const REPEAT: Duration = Duration::from_millis(10);

/// A connection from a pool that interrupts whatever statement it is running when dropped.
///
/// Use `&mut *guard` as the executor of the queries. Call [`InterruptGuard::release`] when the
/// work finished normally; dropping the guard instead interrupts the connection (a no-op when
/// nothing runs) and returns it to the pool once SQLite has stopped.
#[derive(Debug)]
pub struct InterruptGuard {
    conn: Option<PoolConnection<Sqlite>>,
    raw: RawInterrupt,
}

impl InterruptGuard {
    /// Takes a connection from `pool` (waiting up to the pool's acquire timeout).
    ///
    /// # Errors
    /// [`DbError::Sqlx`] when no connection could be acquired (for example the acquire timeout).
    pub async fn acquire(pool: &SqlitePool) -> Result<Self> {
        let mut conn = pool.acquire().await.map_err(|e| DbError::from_sqlx("acquire", e))?;
        // Taken now, while the connection is idle: during a statement the worker holds the lock.
        let raw = RawInterrupt::take(&mut conn).await?;
        Ok(Self { conn: Some(conn), raw })
    }

    /// Interrupts the statement running on the connection now, if any; it fails with
    /// `SQLITE_INTERRUPT`. The connection stays usable.
    pub fn interrupt(&self) {
        self.raw.interrupt();
    }

    /// Returns the connection to the pool without interrupting it: the work is done.
    pub fn release(mut self) {
        drop(self.conn.take());
    }
}

impl Deref for InterruptGuard {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        // The connection is only taken out by `release` (which consumes the guard) and `drop`.
        self.conn.as_deref().unwrap_or_else(|| unreachable!("connection present until release or drop"))
    }
}

impl DerefMut for InterruptGuard {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn.as_deref_mut().unwrap_or_else(|| unreachable!("connection present until release or drop"))
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        self.raw.interrupt();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to wait on: the pool pings the connection before reusing it anyway.
            return;
        };
        // The handle must stay valid while we interrupt, so the task owns the connection until
        // its worker answers a ping, i.e. no statement runs any more; then it goes back to the
        // pool. Repeating the interrupt covers a statement that started just after the first.
        let raw = self.raw.clone();
        runtime.spawn(async move {
            loop {
                match tokio::time::timeout(REPEAT, conn.ping()).await {
                    Ok(Ok(())) => break,
                    Ok(Err(error)) => {
                        debug!(%error, "interrupted connection did not answer; the pool will drop it");
                        break;
                    }
                    Err(_) => raw.interrupt(),
                }
            }
            drop(conn);
        });
    }
}

/// Runs `work` on a connection from `pool`; if the returned future is dropped before it
/// completes (cancelled, or cut by a timeout), the statement it was running is interrupted and
/// the connection goes back to the pool at once instead of when the statement would have ended.
///
/// # Errors
/// Whatever `work` returns, and [`DbError`] (converted) when no connection could be acquired.
pub async fn interruptible<T, E, F>(pool: &SqlitePool, work: F) -> std::result::Result<T, E>
where
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, std::result::Result<T, E>>,
    E: From<DbError>,
{
    let mut guard = InterruptGuard::acquire(pool).await?;
    let result = work(&mut guard).await;
    guard.release();
    result
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::{Db, DbOptions};

    type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

    /// Counts to a billion: tens of seconds in SQLite, unless interrupted.
    const SLOW: &str = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000) \
                        SELECT count(*) FROM c";

    /// A database file with one reader connection and a short acquire timeout.
    async fn one_reader() -> std::result::Result<(tempfile::TempDir, Db), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let options =
            DbOptions::file(dir.path().join("nexus.db")).readers(1).acquire_timeout(Duration::from_secs(2));
        Ok((dir, Db::open_with(options).await?))
    }

    async fn slow_count(pool: &SqlitePool) -> Result<i64> {
        interruptible(pool, |conn| {
            Box::pin(async move {
                let (n,): (i64,) = sqlx::query_as(SLOW).fetch_one(conn).await?;
                Ok::<_, DbError>(n)
            })
        })
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_timed_out_read_frees_the_only_reader_at_once() -> TestResult {
        let (_dir, db) = one_reader().await?;
        let started = Instant::now();
        let slow = tokio::time::timeout(Duration::from_millis(200), slow_count(db.reader())).await;
        assert!(slow.is_err(), "the count cannot finish in 200 ms");
        // The single reader is back: this acquire would time out (2 s) if the count still ran.
        let (one,): (i64,) = sqlx::query_as("SELECT 1").fetch_one(db.reader()).await?;
        assert_eq!(one, 1);
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
        // And it is still a working connection, several times over.
        for _ in 0..3 {
            let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM projects").fetch_one(db.reader()).await?;
            assert_eq!(n, 0);
        }
        db.close().await?;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_guard_interrupts_and_an_explicit_interrupt_is_a_typed_error() -> TestResult {
        let (_dir, db) = one_reader().await?;
        // An explicit interrupt from another task: the statement fails with SQLITE_INTERRUPT.
        let mut guard = InterruptGuard::acquire(db.reader()).await?;
        let raw = guard.raw.clone();
        let interrupter = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            raw.interrupt();
        });
        let started = Instant::now();
        let error = sqlx::query_as::<_, (i64,)>(SLOW).fetch_one(&mut *guard).await.map_err(DbError::from);
        interrupter.await?;
        let Err(DbError::Sqlx { source: sqlx::Error::Database(db_error), .. }) = error else {
            return Err(format!("expected an interrupted statement, got {error:?}").into());
        };
        assert_eq!(db_error.code().as_deref(), Some("9"), "SQLITE_INTERRUPT: {db_error}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The same connection keeps working after the interrupt.
        let (one,): (i64,) = sqlx::query_as("SELECT 1").fetch_one(&mut *guard).await?;
        assert_eq!(one, 1);
        guard.release();

        // Dropping a guard while its statement runs frees the single reader too.
        let mut guard = InterruptGuard::acquire(db.reader()).await?;
        let running = tokio::spawn(async move {
            let _ = sqlx::query_as::<_, (i64,)>(SLOW).fetch_one(&mut *guard).await;
            guard
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        running.abort(); // drops the task's future, and with it the guard
        let _ = running.await;
        let started = Instant::now();
        let (one,): (i64,) = sqlx::query_as("SELECT 1").fetch_one(db.reader()).await?;
        assert_eq!(one, 1);
        assert!(started.elapsed() < Duration::from_secs(2));
        db.close().await?;
        Ok(())
    }
}
