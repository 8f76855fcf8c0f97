//! `nexus demo`: index this repository's code and docs and run three example searches.

use std::path::Path;

use nexus_db::SourceKind;
use nexus_embed::{EmbedderConfig, EmbedderKind};
use nexus_search::Source;

use crate::args::{DemoArgs, EmbedderArg, EmbedderArgs};
use crate::commands::index::{index_tree, print_report, project_for};
use crate::commands::open::{Access, open_store};
use crate::output::hits::{self, Scale};

/// The searches `demo` runs.
const DEMO_QUERIES: [&str; 3] = [
    "how does hybrid search fuse keyword and vector results",
    "split camelCase identifiers",
    "checkpoint the WAL on close",
];

/// The CLI's own sources, left out of the demo's results: this file contains the demo queries
/// verbatim and the help texts echo them.
const CLI_SOURCES: &str = "crates/nexus-cli/src/";

/// Indexes this repository into the database at `db` and runs the example searches.
pub async fn run(db: &Path, args: &DemoArgs) -> anyhow::Result<()> {
    let here = std::env::current_dir()?;
    let root = if here.join("crates").is_dir() && here.join("Cargo.toml").is_file() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    };
    fetch_model_if_missing(&root, args.embedder)?;
    let store = open_store(db, args.embedder, Access::ReadWrite { migrate: true }).await?;
    out!("Nexus demo: database {}, embedder {}", db.display(), store.embedder().model())?;
    let project_id = project_for(&store, &root, Some("nexus")).await?;
    let report = index_tree(&store, &project_id, &root).await?;
    print_report(&root, &report)?;
    for query in DEMO_QUERIES {
        out!("\n$ nexus search {query:?} --project nexus")?;
        let mut results = store
            .search()
            .text(query)
            .project(&project_id)
            .kinds([SourceKind::CodeChunk])
            .limit(6)
            .execute()
            .await?;
        results
            .hits
            .retain(|h| !matches!(&h.source, Source::CodeChunk(c) if c.file.starts_with(CLI_SOURCES)));
        results.hits.truncate(3);
        hits::print(&results, Scale::Fused, false)?;
    }
    store.close().await?;
    out!(
        "\nIndex your own tree:  nexus --db {} index /path/to/your/project\nthen search it:       nexus --db {} search \"your question\" --explain",
        db.display(),
        db.display()
    )?;
    Ok(())
}

/// When the offline default would fall back to the hashing embedder because the neural model
/// is not installed, runs the repository's `scripts/fetch-model.sh` once (its output goes to
/// stderr). A failed fetch is not an error: the demo then runs on the hashing embedder.
fn fetch_model_if_missing(root: &Path, args: EmbedderArgs) -> anyhow::Result<()> {
    let offline_default = matches!(args.embedder, None | Some(EmbedderArg::Local));
    let script = root.join(nexus_embed::FETCH_COMMAND);
    if !offline_default
        || EmbedderConfig::from_env_for(args.embedder.map(|_| EmbedderKind::Local))?.kind()
            != EmbedderKind::Hashing
        || std::env::var("NEXUS_EMBEDDER").is_ok_and(|v| v.trim().eq_ignore_ascii_case("hashing"))
        || !script.is_file()
    {
        return Ok(());
    }
    let status = std::process::Command::new("bash")
        .arg(&script)
        .stdout(std::io::stderr())
        .status()
        .map(|s| s.success());
    if !matches!(status, Ok(true)) {
        tracing::warn!(?status, "fetching the neural model failed");
    }
    Ok(())
}
