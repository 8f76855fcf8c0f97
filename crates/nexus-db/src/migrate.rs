//! The Nexus migrations, embedded from the workspace's `migrations/` directory, and the rule
//! for applying them safely when several processes open the same file at once.
//!
//! The same files are run by sqlx-cli (`sqlx migrate run --source migrations`), so a database
//! migrated either way records the same versions in `_sqlx_migrations`.
//!
//! Opening is migration-safe across processes: a database that is already current is only
//! *read* (no write lock, so opening works while another process holds a write transaction),
//! and pending migrations are applied inside one `BEGIN IMMEDIATE` transaction, so concurrent
//! openers of a fresh file queue on SQLite's lock (up to the busy timeout) and the later ones
//! find the work done instead of racing to create the same tables.

use std::collections::HashMap;

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;

use crate::error::{DbError, Result};

/// Every migration this build knows, in version order.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// The highest migration version this build knows.
pub fn latest_version() -> Option<i64> {
    MIGRATOR.iter().map(|m| m.version).max()
}

/// Applies pending migrations on `pool` and returns the version the database is at.
pub(crate) async fn run(pool: &SqlitePool) -> Result<Option<i64>> {
    if state(pool).await? == State::Current {
        return applied_version(pool).await;
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| DbError::from_sqlx("migrate", e))?;
    // Inside the transaction each migration runs in a savepoint; all of them commit together.
    MIGRATOR.run(&mut *tx).await?;
    tx.commit().await.map_err(|e| DbError::from_sqlx("migrate", e))?;
    applied_version(pool).await
}

/// Where a database stands against [`MIGRATOR`], judged by reading only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Every known migration is applied with a matching checksum, and no other.
    Current,
    /// Anything else: never migrated, behind, dirty, ahead or changed. [`run`] applies what
    /// is pending or reports what is wrong.
    NotCurrent,
}

/// Reads `_sqlx_migrations` and compares it with [`MIGRATOR`].
pub(crate) async fn state(pool: &SqlitePool) -> Result<State> {
    if !has_migrations_table(pool).await? {
        return Ok(State::NotCurrent);
    }
    let applied: Vec<(i64, Vec<u8>, bool)> =
        sqlx::query_as("SELECT version, checksum, success FROM _sqlx_migrations")
            .fetch_all(pool)
            .await
            .map_err(|e| DbError::from_sqlx("_sqlx_migrations", e))?;
    let applied: HashMap<i64, (Vec<u8>, bool)> =
        applied.into_iter().map(|(version, checksum, success)| (version, (checksum, success))).collect();
    let known: Vec<_> = MIGRATOR.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
    let current = applied.len() == known.len()
        && known.iter().all(|m| {
            applied.get(&m.version).is_some_and(|(checksum, success)| *success && **checksum == *m.checksum)
        });
    Ok(if current { State::Current } else { State::NotCurrent })
}

async fn has_migrations_table(pool: &SqlitePool) -> Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await
    .map_err(|e| DbError::from_sqlx("_sqlx_migrations", e))
}

/// The highest successfully applied migration version, or `None` on an unmigrated database.
pub(crate) async fn applied_version(pool: &SqlitePool) -> Result<Option<i64>> {
    if !has_migrations_table(pool).await? {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
        .fetch_one(pool)
        .await
        .map_err(|e| DbError::from_sqlx("_sqlx_migrations", e))
}
