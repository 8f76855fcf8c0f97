//! `nexus import`: an archive made by `nexus export` into the database.

use std::path::Path;

use anyhow::Context;
use nexus_archive::OnConflict;
use nexus_artifacts::ArtifactStore;

use crate::args::{ConflictArg, ImportArgs};
use crate::commands::open::{Access, open_db};
use crate::output::progress::Bar;

/// Runs `nexus import` on the database at `db_path`.
pub async fn run(db_path: &Path, args: &ImportArgs) -> anyhow::Result<()> {
    let on_conflict = match args.on_conflict {
        ConflictArg::Fail => OnConflict::Fail,
        ConflictArg::Skip => OnConflict::Skip,
        ConflictArg::Replace => OnConflict::Replace,
        ConflictArg::Copy => OnConflict::Copy,
    };
    let input =
        std::fs::File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let db = open_db(db_path, Access::ReadWrite { migrate: true }).await?;
    let store = ArtifactStore::open(&db, None).await?;
    let bar = Bar::new();
    let report =
        nexus_archive::import(&db, &store, std::io::BufReader::new(input), on_conflict, bar.clone()).await;
    bar.finish();
    let report = report?;
    db.close().await?;
    if args.json {
        out!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"projects": report.projects, "written": report.written})
            )?
        )?;
        return Ok(());
    }
    for project in &report.projects {
        out!("{:?} {} ({}) from {}", project.outcome, project.name, project.id, project.archived_id)?;
    }
    let counts: Vec<String> = report.written.iter().map(|(t, n)| format!("{n} {t}")).collect();
    out!("written: {}", if counts.is_empty() { "nothing".to_owned() } else { counts.join(", ") })?;
    Ok(())
}
