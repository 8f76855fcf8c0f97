//! `nexus migrate`: apply pending migrations and print the schema version as JSON.

use std::path::Path;

use nexus_db::{Db, DbOptions};

/// Creates or migrates the database at `db`.
pub async fn run(db_path: &Path) -> anyhow::Result<()> {
    let db = Db::open_with(DbOptions::file(db_path).run_migrations(false)).await?;
    let version = db.migrate().await?;
    db.close().await?;
    out!("{}", serde_json::json!({ "db": db_path, "migration_version": version }))?;
    Ok(())
}
