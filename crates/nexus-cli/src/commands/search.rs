//! `nexus search QUERY`: one search, printed for a person or as JSON.
//!
//! In a single-leg mode the score shown is that leg's own (BM25, or the cosine distance), so
//! the search runs with the per-leg breakdown on; `--explain` decides only whether it is shown.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use nexus_db::projects;
use nexus_search::Mode;

use crate::args::{ModeArg, SearchArgs};
use crate::commands::open::{Access, open_store};
use crate::output::hits::{self, Scale};

/// Runs the search `args` describes against the existing database at `db`.
pub async fn run(db: &Path, args: &SearchArgs) -> anyhow::Result<()> {
    if args.query.trim().is_empty() {
        bail!("empty query");
    }
    let (mode, scale) = match args.mode {
        ModeArg::Hybrid => (Mode::Hybrid, Scale::Fused),
        ModeArg::Fts => (Mode::FtsOnly, Scale::Bm25),
        ModeArg::Vector => (Mode::VectorOnly, Scale::Distance),
    };
    let store = open_store(db, args.embedder, Access::ReadOnly).await?;
    let search = if args.code || !args.chunk_kinds.is_empty() { store.search_code() } else { store.search() };
    let search =
        if args.chunk_kinds.is_empty() { search } else { search.chunk_types(args.chunk_kinds.iter()) };
    let mut search = search
        .text(args.query.as_str())
        .limit(args.limit)
        .mode(mode)
        .explain(args.explain || scale != Scale::Fused);
    if let Some(name) = &args.project {
        let found = projects::find_by_name(store.db().reader(), name).await?;
        search = search.project(found.with_context(|| format!("unknown project {name:?}"))?.id);
    }
    let started = Instant::now();
    let results = search.execute().await?;
    let elapsed = started.elapsed();
    if args.json {
        out!("{}", hits::to_json(&args.query, args.mode.name(), scale, &results, args.explain))?;
    } else {
        hits::print(&results, scale, args.explain)?;
        eprintln!("({} hits in {:.1} ms)", results.hits.len(), elapsed.as_secs_f64() * 1e3);
    }
    store.close().await?;
    Ok(())
}
