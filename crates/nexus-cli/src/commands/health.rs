//! `nexus health`: the database's health (pragmas, tables, versions, migrations) as JSON;
//! a failing status when it is not healthy.

use std::path::Path;

use anyhow::bail;
use nexus_db::{Db, DbOptions};

use crate::commands::open::existing_db;

/// Prints the health report of the existing database at `db_path`.
pub async fn run(db_path: &Path) -> anyhow::Result<()> {
    // Read-only, so nothing is migrated: an out-of-date schema is an error naming the versions.
    let db = Db::open_with(DbOptions::file(existing_db(db_path)?).read_only(true)).await?;
    let health = db.health().await?;
    db.close().await?;
    out!("{}", serde_json::to_string_pretty(&health)?)?;
    if !health.healthy {
        bail!("database is not healthy (run `nexus migrate`?)");
    }
    Ok(())
}
