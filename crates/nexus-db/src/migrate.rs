//! The Nexus migrations, embedded from the workspace's `migrations/` directory.
//!
//! The same files are run by sqlx-cli (`sqlx migrate run --source migrations`), so a database
//! migrated either way records the same versions in `_sqlx_migrations`.

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
    MIGRATOR.run(pool).await?;
    applied_version(pool).await
}

/// The highest successfully applied migration version, or `None` on an unmigrated database.
pub(crate) async fn applied_version(pool: &SqlitePool) -> Result<Option<i64>> {
    let has_table: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = '_sqlx_migrations')",
    )
    .fetch_one(pool)
    .await
    .map_err(|e| DbError::from_sqlx("_sqlx_migrations", e))?;
    if !has_table {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
        .fetch_one(pool)
        .await
        .map_err(|e| DbError::from_sqlx("_sqlx_migrations", e))
}
