//! `nexus health`: the database's health (pragmas, tables, versions, migrations) and the
//! embedder the other commands would use (kind, model, dimensions), as JSON; a failing status
//! when the database is not healthy.

use std::path::Path;

use anyhow::bail;
use nexus_db::{Db, DbOptions};

use crate::args::EmbedderArgs;
use crate::commands::open::{choose_embedder, existing_db};

/// Prints the health report of the existing database at `db_path`.
pub async fn run(db_path: &Path) -> anyhow::Result<()> {
    // Read-only, so nothing is migrated: an out-of-date schema is an error naming the versions.
    let db = Db::open_with(DbOptions::file(existing_db(db_path)?).read_only(true)).await?;
    let health = db.health().await?;
    db.close().await?;
    let mut report = serde_json::to_value(&health)?;
    let embedder = match choose_embedder(EmbedderArgs { embedder: None }) {
        Ok((embedder, kind)) => serde_json::json!({
            "kind": kind.to_string(),
            "model": embedder.model(),
            "dimensions": embedder.dimensions(),
        }),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    if let Some(fields) = report.as_object_mut() {
        fields.insert("embedder".to_owned(), embedder);
    }
    out!("{}", serde_json::to_string_pretty(&report)?)?;
    if !health.healthy {
        bail!("database is not healthy (run `nexus migrate`?)");
    }
    Ok(())
}
