//! `nexus index PATH`: index a source tree into a project (created when missing), with a
//! progress bar on a terminal; re-runs are incremental. The pieces are public for `demo`.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use nexus_db::ProjectId;
use nexus_db::projects::{self, NewProject};
use nexus_store::{IndexReport, Store};

use crate::args::IndexArgs;
use crate::commands::open::{Access, open_store};

/// Indexes `args.path` into the database at `db`.
pub async fn run(db: &Path, args: &IndexArgs) -> anyhow::Result<()> {
    let access = Access::ReadWrite { migrate: !args.migration.no_migrate };
    let store = open_store(db, args.embedder, access).await?;
    let project_id = project_for(&store, &args.path, args.project.as_deref()).await?;
    let report = index_tree(&store, &project_id, &args.path).await?;
    print_report(&args.path, &report)?;
    store.close().await?;
    Ok(())
}

/// The id of the project named `name` (default: the directory's name), created when missing.
pub async fn project_for(store: &Store, path: &Path, name: Option<&str>) -> anyhow::Result<ProjectId> {
    let root = std::fs::canonicalize(path).with_context(|| format!("cannot index {}", path.display()))?;
    let name = match name {
        Some(name) => name.to_owned(),
        None => root.file_name().map_or_else(|| "root".to_owned(), |n| n.to_string_lossy().into_owned()),
    };
    let new = NewProject::new(name, root.display().to_string());
    let (project, _created) = projects::get_or_create(store.db().writer(), new).await?;
    Ok(project.id)
}

/// Indexes `path` into the project, with a progress bar on a terminal.
pub async fn index_tree(store: &Store, project_id: &ProjectId, path: &Path) -> anyhow::Result<IndexReport> {
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} files, {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = store
        .index_dir(project_id, path, |p| {
            bar.set_length(p.files_total as u64);
            bar.set_position(p.files_done as u64);
            if p.unreadable == 0 {
                bar.set_message(format!("{} chunks", p.chunks_written));
            } else {
                bar.set_message(format!("{} chunks, {} unreadable skipped", p.chunks_written, p.unreadable));
            }
        })
        .await?;
    bar.finish_and_clear();
    Ok(report)
}

/// Prints the one-line summary of an indexing run; skipped files go to stderr.
pub fn print_report(path: &Path, r: &IndexReport) -> std::io::Result<()> {
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    out!(
        "indexed {}: {} files ({} new or changed, {} unchanged, {} removed, {} skipped), {} chunks written, {} removed in {:.2} s ({:.0} files/s, {:.0} chunks/s)",
        path.display(),
        r.files_seen,
        r.files_indexed,
        r.files_unchanged,
        r.files_removed,
        r.files_skipped,
        r.chunks_written,
        r.chunks_removed,
        secs,
        r.files_seen as f64 / secs,
        r.chunks_written as f64 / secs,
    )?;
    if !r.unreadable.is_empty() {
        eprintln!(
            "{} unreadable paths skipped ({} indexed files under them kept as they were):",
            r.unreadable.len(),
            r.files_kept
        );
        for entry in &r.unreadable {
            eprintln!("  skipped: {}: {}", entry.path, entry.reason);
        }
    }
    Ok(())
}
