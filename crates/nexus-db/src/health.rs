//! [`Health`]: what `Db::health` reports about an open database.

use serde::Serialize;
use sqlx::SqlitePool;

use crate::error::{DbError, Result};
use crate::migrate;

/// A snapshot of the database's configuration and state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Health {
    /// True when the pragmas are as Nexus needs them, the schema is fully migrated and
    /// `PRAGMA quick_check` found no damage.
    pub healthy: bool,
    /// `journal_mode` is WAL (always false for in-memory databases, which have no WAL).
    pub wal_mode: bool,
    /// The journal mode SQLite reports (`wal`, or `memory` for in-memory databases).
    pub journal_mode: String,
    /// `foreign_keys` is on.
    pub foreign_keys: bool,
    /// Every table in the schema, sorted by name (internal `sqlite_*` tables excluded).
    pub tables: Vec<String>,
    /// The linked SQLite library version.
    pub sqlite_version: String,
    /// The registered sqlite-vec version (`vec_version()`).
    pub sqlite_vec_version: String,
    /// The highest applied migration, `None` on an unmigrated database.
    pub migration_version: Option<i64>,
    /// The highest migration this build knows.
    pub latest_migration: Option<i64>,
    /// What `PRAGMA quick_check` reported: `["ok"]`, or up to 20 problems. It reads every page
    /// and checks CHECK and NOT NULL constraints and page structure (not index contents
    /// against their tables: `PRAGMA integrity_check` does that, more slowly).
    pub quick_check: Vec<String>,
}

/// Reads the health snapshot through `pool`. `in_memory` relaxes the WAL requirement;
/// `wal_in_header` says the file is in WAL mode when the connection cannot tell (immutable).
pub(crate) async fn check(pool: &SqlitePool, in_memory: bool, wal_in_header: bool) -> Result<Health> {
    let ctx = |e| DbError::from_sqlx("health", e);
    let journal_mode: String =
        sqlx::query_scalar("PRAGMA journal_mode").fetch_one(pool).await.map_err(ctx)?;
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(pool).await.map_err(ctx)?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .map_err(ctx)?;
    let (sqlite_version, sqlite_vec_version): (String, String) =
        sqlx::query_as("SELECT sqlite_version(), vec_version()").fetch_one(pool).await.map_err(ctx)?;
    let migration_version = migrate::applied_version(pool).await?;
    let latest_migration = migrate::latest_version();
    // Damage bad enough to stop the check itself is reported as its finding, not as an error.
    let quick_check: Vec<String> = match sqlx::query_scalar("PRAGMA quick_check(20)").fetch_all(pool).await {
        Ok(found) => found,
        Err(e) => {
            let error = ctx(e);
            if !error.sqlite_code().is_some_and(|c| matches!(c & 0xff, 11 | 26)) {
                return Err(error);
            }
            vec![format!("quick_check stopped: {error}")]
        }
    };
    let intact = quick_check.len() == 1 && quick_check[0] == "ok";

    let wal_mode = journal_mode.eq_ignore_ascii_case("wal") || wal_in_header;
    let foreign_keys = foreign_keys == 1;
    let healthy = (wal_mode || in_memory) && foreign_keys && migration_version == latest_migration && intact;
    Ok(Health {
        healthy,
        wal_mode,
        journal_mode,
        foreign_keys,
        tables,
        sqlite_version,
        sqlite_vec_version,
        migration_version,
        latest_migration,
        quick_check,
    })
}
