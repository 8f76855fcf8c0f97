//! What each subcommand does.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use nexus_db::projects::{self, NewProject};
use nexus_db::{Db, DbOptions, SourceKind};
use nexus_embed::{EmbedderConfig, EmbedderKind};
use nexus_search::Mode;
use nexus_store::{IndexReport, Store};

use crate::output;
use crate::{Cli, Command, EmbedderArg, ModeArg};

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Migrate => {
            let db = Db::open_with(DbOptions::file(&cli.db).run_migrations(false)).await?;
            let version = db.migrate().await?;
            db.close().await?;
            out!("{}", serde_json::json!({ "db": cli.db, "migration_version": version }))?;
        }
        Command::Health => {
            // Read-only: with migrations on, an out-of-date schema is an error naming the versions.
            let options =
                DbOptions::file(existing_db(&cli.db)?).read_only(true).run_migrations(!cli.no_migrate);
            let db = Db::open_with(options).await?;
            let health = db.health().await?;
            db.close().await?;
            out!("{}", serde_json::to_string_pretty(&health)?)?;
            if !health.healthy {
                bail!("database is not healthy (run `nexus migrate`?)");
            }
        }
        Command::Index { path, project } => {
            let store = open_store(&cli, Access::ReadWrite).await?;
            let project_id = project_for(&store, path, project.as_deref()).await?;
            let report = index(&store, &project_id, path).await?;
            print_report(path, &report)?;
            store.close().await?;
        }
        Command::Search { query, project, mode, limit, explain, json } => {
            let store = open_store(&cli, Access::ReadOnly).await?;
            let mut search =
                store.search().text(query.as_str()).limit(*limit).explain(*explain).mode(match mode {
                    ModeArg::Hybrid => Mode::Hybrid,
                    ModeArg::Fts => Mode::FtsOnly,
                    ModeArg::Vector => Mode::VectorOnly,
                });
            if let Some(name) = project {
                let found = projects::find_by_name(store.db().reader(), name).await?;
                search = search.project(found.with_context(|| format!("unknown project {name:?}"))?.id);
            }
            let started = Instant::now();
            let results = search.execute().await?;
            let elapsed = started.elapsed();
            if *json {
                out!("{}", output::hits_json(query, &format!("{mode:?}").to_lowercase(), &results))?;
            } else {
                output::print_hits(&results, *explain)?;
                eprintln!("({} hits in {:.1} ms)", results.hits.len(), elapsed.as_secs_f64() * 1e3);
            }
            store.close().await?;
        }
        Command::Stats => {
            let store = open_store(&cli, Access::ReadOnly).await?;
            out!("{}", serde_json::to_string_pretty(&store.stats().await?)?)?;
            store.close().await?;
        }
        Command::Demo => demo(&cli).await?,
    }
    Ok(())
}

/// How a command uses the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Only reads: the file must exist; it is opened read-only (works on a read-only file or
    /// directory and while another process writes).
    ReadOnly,
    /// Writes: the file is created and migrated when needed.
    ReadWrite,
}

/// The database file a reading command needs, or [`MissingDb`].
fn existing_db(path: &Path) -> anyhow::Result<&Path> {
    if path.is_file() { Ok(path) } else { Err(MissingDb(path.to_path_buf()).into()) }
}

/// A reading command was pointed at a file that does not exist (exit status 2).
#[derive(Debug, thiserror::Error)]
#[error("no database at {} (create one with nexus migrate or nexus index)", .0.display())]
pub struct MissingDb(pub std::path::PathBuf);

/// Opens the store with the chosen embedder.
async fn open_store(cli: &Cli, access: Access) -> anyhow::Result<Store> {
    if access == Access::ReadOnly {
        existing_db(&cli.db)?;
    }
    let kind = match cli.embedder {
        EmbedderArg::Local => EmbedderKind::Local,
        EmbedderArg::Openai => EmbedderKind::OpenAi,
    };
    let embedder = EmbedderConfig::from_env_for(Some(kind))?.build()?;
    let store = Store::builder(&cli.db)
        .embedder(Arc::clone(&embedder))
        .run_migrations(!cli.no_migrate)
        .read_only(access == Access::ReadOnly)
        .open()
        .await
        .with_context(|| format!("cannot open {}", cli.db.display()))?;
    Ok(store)
}

/// The id of the project named `name` (default: the directory's name), created when missing.
async fn project_for(store: &Store, path: &Path, name: Option<&str>) -> anyhow::Result<String> {
    let root = std::fs::canonicalize(path).with_context(|| format!("cannot index {}", path.display()))?;
    let name = match name {
        Some(name) => name.to_owned(),
        None => root.file_name().map_or_else(|| "root".to_owned(), |n| n.to_string_lossy().into_owned()),
    };
    let new = NewProject::new(name, root.display().to_string());
    let (project, _created) = projects::get_or_create(store.db().writer(), new).await?;
    Ok(project.id)
}

/// Indexes `path`, with a progress bar on a terminal.
async fn index(store: &Store, project_id: &str, path: &Path) -> anyhow::Result<IndexReport> {
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

fn print_report(path: &Path, r: &IndexReport) -> std::io::Result<()> {
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

/// The searches `demo` runs.
const DEMO_QUERIES: [&str; 3] = [
    "how does hybrid search fuse keyword and vector results",
    "split camelCase identifiers",
    "checkpoint the WAL on close",
];

/// This file, left out of the demo's results (it contains the demo queries verbatim).
const DEMO_SOURCE: &str = "crates/nexus-cli/src/commands.rs";

/// Indexes this repository and runs the example searches.
async fn demo(cli: &Cli) -> anyhow::Result<()> {
    let here = std::env::current_dir()?;
    let root = if here.join("crates").is_dir() && here.join("Cargo.toml").is_file() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    };
    let store = open_store(cli, Access::ReadWrite).await?;
    out!("Nexus demo: database {}, embedder {}", cli.db.display(), store.embedder().model())?;
    let project_id = project_for(&store, &root, Some("nexus")).await?;
    let report = index(&store, &project_id, &root).await?;
    print_report(&root, &report)?;
    for query in DEMO_QUERIES {
        out!("\n$ nexus search {query:?} --project nexus")?;
        let results = store
            .search()
            .text(query)
            .project(&project_id)
            .kinds([SourceKind::CodeChunk])
            .limit(4)
            .execute()
            .await?;
        let mut results = results;
        results
            .hits
            .retain(|h| !matches!(&h.source, nexus_search::Source::CodeChunk(c) if c.file == DEMO_SOURCE));
        results.hits.truncate(3);
        output::print_hits(&results, false)?;
    }
    store.close().await?;
    out!(
        "\nIndex your own tree:  nexus --db {} index /path/to/your/project\nthen search it:       nexus --db {} search \"your question\" --explain",
        cli.db.display(),
        cli.db.display()
    )?;
    Ok(())
}
