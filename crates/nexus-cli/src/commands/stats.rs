//! `nexus stats`: rows per table, full-text index sizes and the vector collection of the
//! chosen embedder; tables for a person, or `--json`.

use std::path::Path;

use crate::args::StatsArgs;
use crate::commands::open::{Access, open_store};
use crate::output;

/// Prints the figures of the existing database at `db`.
pub async fn run(db: &Path, args: &StatsArgs) -> anyhow::Result<()> {
    let store = open_store(db, args.embedder, Access::ReadOnly).await?;
    let stats = store.stats().await?;
    store.close().await?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&stats)?)?;
    } else {
        output::stats::print(db, &stats)?;
    }
    Ok(())
}
