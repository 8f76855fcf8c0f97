//! `nexus cleanup`: removes history beyond the given limits, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use nexus_db::retention::{HistoryKind, Limits};
use nexus_store::CleanupPolicy;

use crate::args::{CleanupArgs, HistoryKindArg};
use crate::commands::open::{Access, open_db};
use crate::output::bytes;

/// Applies the limits to every project of the database at `db_path`.
pub async fn run(db_path: &Path, args: &CleanupArgs) -> anyhow::Result<()> {
    let limits = Limits {
        max_age: args.max_age_days.map(|days| Duration::from_secs(days.saturating_mul(86_400))),
        max_count: args.max_count,
        max_bytes: args.max_bytes,
    };
    if limits == Limits::default() {
        bail!("give at least one limit: --max-age-days, --max-count or --max-bytes");
    }
    let kinds: Vec<HistoryKind> = if args.kinds.is_empty() {
        HistoryKind::ALL.to_vec()
    } else {
        args.kinds.iter().map(|k| kind(*k)).collect()
    };
    let policy = kinds.into_iter().fold(CleanupPolicy::default(), |p, k| p.keep(k, limits));
    let db = open_db(db_path, Access::ReadWrite { migrate: true }).await?;
    let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} rows")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = nexus_store::cleanup(&db, &policy, args.dry_run, |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    })
    .await?;
    bar.finish_and_clear();
    db.close().await?;
    if args.json {
        out!("{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(());
    }
    let verb = if report.dry_run { "would remove" } else { "removed" };
    if report.removed.is_empty() {
        out!("nothing to remove")?;
    }
    for r in &report.removed {
        out!("{} {verb} {} {} ({})", r.project_id, r.rows, r.kind, bytes(r.bytes))?;
    }
    Ok(())
}

fn kind(arg: HistoryKindArg) -> HistoryKind {
    match arg {
        HistoryKindArg::Transcripts => HistoryKind::Transcripts,
        HistoryKindArg::Checkpoints => HistoryKind::Checkpoints,
        HistoryKindArg::Metrics => HistoryKind::Metrics,
        HistoryKindArg::Episodes => HistoryKind::Episodes,
        HistoryKindArg::Artifacts => HistoryKind::Artifacts,
    }
}
