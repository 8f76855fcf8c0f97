//! `nexus check [--repair]`: the database's and the artifacts' integrity; exit status 1 when
//! problems are found (or, with --repair, remain).

use std::path::Path;

use anyhow::bail;
use nexus_artifacts::ArtifactStore;

use crate::args::CheckArgs;
use crate::commands::open::{Access, existing_db, open_db};

/// Runs `nexus check` on the database at `db_path`.
pub async fn run(db_path: &Path, args: &CheckArgs) -> anyhow::Result<()> {
    // Not migrated: a schema behind this build is one of the findings.
    let db = open_db(existing_db(db_path)?, Access::ReadWrite { migrate: false }).await?;
    let store = ArtifactStore::open(&db, None).await?;
    let problems = if args.repair {
        let report = nexus_archive::repair(&db, Some(&store)).await?;
        if args.json {
            out!("{}", serde_json::to_string_pretty(&report)?)?;
        } else {
            for index in &report.fts_rebuilt {
                out!("rebuilt full-text index {index}")?;
            }
            out!(
                "removed {} orphan vector keys, {} orphan vectors",
                report.orphan_keys_removed,
                report.orphan_vectors_removed
            )?;
            if let Some(artifacts) = &report.artifacts {
                out!(
                    "removed {} unreferenced artifact files; marked {} missing, {} corrupt",
                    artifacts.removed.len(),
                    artifacts.marked_missing.len(),
                    artifacts.marked_corrupt.len()
                )?;
            }
            for line in &report.not_repaired {
                out!("not repaired: {line}")?;
            }
        }
        report.not_repaired.len()
    } else {
        let report = nexus_archive::check(&db, Some(&store)).await?;
        if args.json {
            out!("{}", serde_json::to_string_pretty(&report)?)?;
        } else {
            for line in report.problems() {
                out!("{line}")?;
            }
            if report.is_healthy() {
                out!("ok")?;
            }
        }
        report.problems().len()
    };
    db.close().await?;
    if problems > 0 {
        bail!("{problems} problem(s) found");
    }
    Ok(())
}
