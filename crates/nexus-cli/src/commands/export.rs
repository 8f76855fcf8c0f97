//! `nexus export`: a project (or every project) to an archive, or to JSON, Markdown or CSV for
//! people (a project's tables, or with `--history EMAIL` a user's research history).

use std::path::Path;

use anyhow::{Context, bail};
use nexus_archive::{Format, Scope};
use nexus_artifacts::ArtifactStore;

use crate::args::{ExportArgs, FormatArg};
use crate::commands::open::{Access, open_db};
use crate::output::{bytes, progress::Bar};

/// Runs `nexus export` on the database at `db_path`.
pub async fn run(db_path: &Path, args: &ExportArgs) -> anyhow::Result<()> {
    let db = open_db(db_path, Access::ReadOnly).await?;
    let project = match &args.project {
        Some(name) => Some(nexus_state::find_project(&db, name).await?.id),
        None => None,
    };
    if let Some(format) = args.format {
        let format = match format {
            FormatArg::Json => Format::Json,
            FormatArg::Md => Format::Markdown,
            FormatArg::Csv => Format::Csv,
        };
        let mut out: Box<dyn std::io::Write> = match &args.output {
            Some(path) => Box::new(std::io::BufWriter::new(
                std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            )),
            None => Box::new(std::io::stdout().lock()),
        };
        if let Some(email) = &args.history {
            let user = nexus_db::users::find_by_email(db.reader(), email)
                .await
                .with_context(|| format!("no user {email:?}"))?;
            let filter = nexus_db::history::HistoryFilter::default();
            nexus_archive::export_history(&db, &user.id, &filter, format, &mut out).await?;
        } else {
            let project = project.context("--format exports one project")?;
            nexus_archive::export_for_people(&db, &project, format, &args.tables, &mut out).await?;
        }
        drop(out);
        db.close().await?;
        return Ok(());
    }
    let Some(output) = &args.output else { bail!("give the archive's file with -o FILE.nexus") };
    let scope = match project {
        Some(id) => Scope::Project(id),
        None => Scope::Workspace,
    };
    let store = ArtifactStore::open(&db, None).await?;
    let file =
        std::fs::File::create(output).with_context(|| format!("cannot create {}", output.display()))?;
    let bar = Bar::new();
    let report = nexus_archive::export(&db, &store, scope, std::io::BufWriter::new(file), bar.clone()).await;
    bar.finish();
    let report = report?;
    db.close().await?;
    let counts: Vec<String> =
        report.manifest.counts().iter().filter(|(_, n)| **n > 0).map(|(t, n)| format!("{n} {t}")).collect();
    out!(
        "exported {} project(s) to {} ({}): {}",
        report.manifest.projects.len(),
        output.display(),
        bytes(i64::try_from(report.archive_bytes).unwrap_or(i64::MAX)),
        counts.join(", ")
    )?;
    Ok(())
}
