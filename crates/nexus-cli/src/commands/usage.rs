//! `nexus usage [--project P] [--json]`: rows and bytes per project and kind of history, then
//! the database's largest tables and indexes.

use std::path::Path;

use crate::args::UsageArgs;
use crate::commands::open::{Access, open_db};
use crate::output::bytes;

/// Prints the usage of the existing database at `db_path`.
pub async fn run(db_path: &Path, args: &UsageArgs) -> anyhow::Result<()> {
    let db = open_db(db_path, Access::ReadOnly).await?;
    let project = match &args.project {
        Some(name) => Some(nexus_state::find_project(&db, name).await?),
        None => None,
    };
    let usage = nexus_store::usage(&db, project.as_ref().map(|p| &p.id)).await?;
    db.close().await?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&usage)?)?;
        return Ok(());
    }
    out!("{:<38} {:<12} {:>10} {:>10}", "project", "kind", "rows", "bytes")?;
    for k in &usage.kinds {
        out!("{:<38} {:<12} {:>10} {:>10}", k.project_id, k.kind, k.rows, bytes(k.bytes))?;
    }
    for a in &usage.artifacts {
        out!(
            "{:<38} {:<12} {:>10} {:>10}  ({} on disk)",
            a.project_id,
            format!("artifact:{}", a.kind),
            a.rows,
            bytes(a.bytes),
            bytes(a.stored_bytes)
        )?;
    }
    out!("\ndatabase file: {}", bytes(usage.database.database_bytes))?;
    for f in &usage.database.fts {
        out!("  full-text {:<28} {:>10} documents {:>10}", f.index, f.documents, bytes(f.bytes))?;
    }
    for v in &usage.database.vectors {
        out!("  vectors   {:<28} {:>10} vectors   {:>10}", v.collection, v.rows, bytes(v.bytes))?;
    }
    Ok(())
}
