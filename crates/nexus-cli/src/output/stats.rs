//! `nexus stats` for a person: rows per table, the full-text indexes and the vector
//! collection, as aligned tables.

use std::path::Path;

use nexus_store::StoreStats;

use super::bytes;

/// Prints `stats` of the database at `db` as tables.
pub fn print(db: &Path, stats: &StoreStats) -> std::io::Result<()> {
    out!("database {}  {}", db.display(), bytes(stats.database_bytes))?;

    let width = stats.tables.iter().map(|t| t.table.len()).chain([5]).max().unwrap_or(5);
    out!("\n{:<width$}  {:>10}", "table", "rows")?;
    for t in &stats.tables {
        out!("{:<width$}  {:>10}", t.table, t.rows)?;
    }

    let width = stats.fts.iter().map(|f| f.index.len()).chain([15]).max().unwrap_or(15);
    out!("\n{:<width$}  {:>10}  {:>11}  {:>10}", "full-text index", "indexed", "source rows", "size")?;
    for f in &stats.fts {
        let note = if f.indexed_rows == f.source_rows { "" } else { "  (out of sync)" };
        out!(
            "{:<width$}  {:>10}  {:>11}  {:>10}{note}",
            f.index,
            f.indexed_rows,
            f.source_rows,
            bytes(f.size_bytes)
        )?;
    }

    let v = &stats.vectors;
    out!(
        "\nvector collection {} ({}, {} dims, {}): {} vectors, {}",
        v.collection,
        v.model,
        v.dimensions,
        v.element.as_str(),
        v.total,
        bytes(i64::try_from(v.bytes).unwrap_or(i64::MAX))
    )?;
    if !v.groups.is_empty() {
        let width = v.groups.iter().map(|g| g.project_id.len()).chain([7]).max().unwrap_or(7);
        out!("  {:<width$}  {:<12}  {:>10}", "project", "kind", "vectors")?;
        for g in &v.groups {
            out!("  {:<width$}  {:<12}  {:>10}", g.project_id, g.kind.as_str(), g.count)?;
        }
    }
    Ok(())
}
