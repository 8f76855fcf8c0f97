//! `nexus backup`: a consistent, checked copy of the live database and its artifact directory.

use std::path::Path;

use anyhow::bail;
use nexus_artifacts::ArtifactStore;

use crate::args::BackupArgs;
use crate::commands::open::{Access, open_db};
use crate::output::{bytes, progress::Bar};

/// Runs `nexus backup` on the database at `db_path`.
pub async fn run(db_path: &Path, args: &BackupArgs) -> anyhow::Result<()> {
    let db = open_db(db_path, Access::ReadWrite { migrate: false }).await?;
    let store = ArtifactStore::open(&db, None).await?;
    let bar = Bar::new();
    let report = nexus_archive::backup(&db, Some(&store), &args.path, bar.clone()).await;
    bar.finish();
    let report = report?;
    db.close().await?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        out!(
            "backed up to {} ({}), {} artifact files ({})",
            report.path.display(),
            bytes(i64::try_from(report.database_bytes).unwrap_or(i64::MAX)),
            report.artifact_files,
            bytes(i64::try_from(report.artifact_bytes).unwrap_or(i64::MAX))
        )?;
    }
    if !report.check.is_healthy() {
        bail!("the copy failed its check: {}", report.check.problems().join("; "));
    }
    Ok(())
}
