//! `cargo xtask bench hybrid [--rows N] [--dims D] [--queries N]`: hybrid search speed.
//!
//! 1. Generate `--rows` synthetic code chunks (the corpus of `bench fts`) with a seeded random
//!    unit vector each (`--dims`, default 384), written row and vector together through the
//!    public API (`code_chunks::create` + `Collection::upsert`, 1,000 per transaction).
//! 2. Time the same `--queries` through `nexus_search::search` three ways: keyword leg only
//!    (`Mode::FtsOnly`), vector leg only (`Mode::VectorOnly`) and both fused (`Mode::Hybrid`),
//!    each with the project and kind filters, 100 candidates per leg, 10 hits, hydrated rows
//!    and snippets — what an orchestrator gets.
//!
//! The legs of a hybrid search run concurrently on two reader connections, so its p50 should be
//! close to the slower leg's, not their sum. The last line is one JSON object.
//!
//! nexus-fts keeps per-phrase score lists between searches (`--cache-mib`, 0 turns it off),
//! and after the load `nexus_fts::warm` computes those of the index's `--warm-terms` most
//! frequent terms, as `nexus serve` does when it starts (`warming_*` keys; 0 skips it).
//! Each query runs hybrid first, so the hybrid figures are those of a query seen for the first
//! time (its lists computed unless earlier queries shared its phrases); the keyword-only run
//! of the same query comes last and finds its lists warm, as a repeated query would.
//! `cache_hit_rate` is over the whole run.

use std::time::{Duration, Instant};

use nexus_db::{Db, DbOptions, SourceKind, code_chunks, projects};
use nexus_search::{Mode, search};
use nexus_vector::{Collection, CollectionSpec, Item, Metric};

use crate::bench_fts::Corpus;
use crate::eval::percentile_ms;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rows (code chunks with a vector each) to generate.
    #[arg(long, default_value_t = 100_000)]
    rows: u32,
    /// Vector dimensions.
    #[arg(long, default_value_t = 384)]
    dims: u32,
    /// Queries to time per mode.
    #[arg(long, default_value_t = 200)]
    queries: u32,
    /// Bound of nexus-fts's cache of per-phrase score lists, in MiB (0: no cache).
    #[arg(long, default_value_t = nexus_fts::DEFAULT_CACHE_BYTES >> 20)]
    cache_mib: usize,
    /// Terms whose score lists `nexus_fts::warm` computes after the load (0: none).
    #[arg(long, default_value_t = nexus_fts::WARM_TERMS)]
    warm_terms: usize,
}

/// A seeded generator of unit vectors (uniform components, normalised).
struct Vectors(fastrand::Rng);

impl Vectors {
    fn next(&mut self, dims: u32) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dims).map(|_| self.0.f32() - 0.5).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::MIN_POSITIVE);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: Args) -> anyhow::Result<()> {
    nexus_fts::set_cache_limit(args.cache_mib << 20);
    let scratch = tempfile::tempdir()?;
    let db = Db::open_with(DbOptions::file(scratch.path().join("bench.db")).readers(4)).await?;
    let spec = CollectionSpec::new("bench", "synthetic", args.dims as usize, Metric::Cosine);
    let collection = Collection::open_or_create(&db, &spec).await?;
    let project = projects::create(db.writer(), projects::NewProject::new("bench", "/src/bench")).await?;
    let (mut corpus, mut vectors) =
        (Corpus::new(0x05ee_df75), Vectors(fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15)));

    let started = Instant::now();
    for batch_start in (0..args.rows).step_by(1000) {
        let mut tx = db.begin().await?;
        for n in batch_start..(batch_start + 1000).min(args.rows) {
            let chunk = code_chunks::create(&mut *tx, corpus.chunk(&project.id, n)).await?;
            let vector = vectors.next(args.dims);
            collection.upsert(&mut tx, Item::new(SourceKind::CodeChunk, &chunk.id, &vector)).await?;
        }
        tx.commit().await?;
    }
    let load = started.elapsed();
    nexus_fts::optimize(db.writer(), SourceKind::CodeChunk).await?;
    println!(
        "loaded {} code chunks with {}-dim vectors in {:.1} s ({:.0} rows/s)",
        args.rows,
        args.dims,
        load.as_secs_f64(),
        f64::from(args.rows) / load.as_secs_f64()
    );

    let started = Instant::now();
    let weights = nexus_fts::FieldWeights::default();
    let warmed = nexus_fts::warm(&db, SourceKind::CodeChunk, &weights, args.warm_terms).await?;
    let warming = started.elapsed();
    println!("warmed {} score lists ({} rows) in {:.2} s", warmed.lists, warmed.rows, warming.as_secs_f64());

    let queries: Vec<(String, Vec<f32>)> =
        (0..args.queries + 10).map(|i| (corpus.query(i), vectors.next(args.dims))).collect();
    // The timed queries, and ten more after them for the warm-up (so that no timed query has
    // run before).
    let (queries, warm_up) = queries.split_at(args.queries as usize);
    let mut timings: [Vec<Duration>; 3] = Default::default();
    let modes = [Mode::FtsOnly, Mode::VectorOnly, Mode::Hybrid];
    let mut hits = [0usize; 3];
    // Warm-up, then the modes take turns query by query so background load hits all alike:
    // hybrid first (see the module doc).
    for (text, vector) in warm_up {
        for mode in modes {
            one(&db, &collection, &project.id, text, vector, mode).await?;
        }
    }
    for (text, vector) in queries {
        for i in [2, 1, 0] {
            let started = Instant::now();
            hits[i] += one(&db, &collection, &project.id, text, vector, modes[i]).await?;
            timings[i].push(started.elapsed());
        }
    }
    let cache = nexus_fts::cache_stats();
    db.close().await?;

    let p = |samples: &[Duration], q| percentile_ms(samples, q);
    let [fts, vector, hybrid] = &timings;
    println!("{:<12} {:>9} {:>9} {:>10}", "mode", "p50 ms", "p95 ms", "hits/query");
    for (i, name) in ["fts only", "vector only", "hybrid"].iter().enumerate() {
        println!(
            "{name:<12} {:>9.2} {:>9.2} {:>10.1}",
            p(&timings[i], 0.5),
            p(&timings[i], 0.95),
            hits[i] as f64 / f64::from(args.queries)
        );
    }
    let slower = p(fts, 0.5).max(p(vector, 0.5));
    let ratio = p(hybrid, 0.5) / slower;
    println!("hybrid p50 / slower leg p50 = {ratio:.2} (target ≤ 1.3)");
    let round = |x: f64| (x * 1e3).round() / 1e3;
    let summary = serde_json::json!({
        "bench": "hybrid",
        "n": args.rows,
        "dims": args.dims,
        "queries": args.queries,
        "fts_p50_ms": round(p(fts, 0.5)),
        "fts_p95_ms": round(p(fts, 0.95)),
        "vector_p50_ms": round(p(vector, 0.5)),
        "vector_p95_ms": round(p(vector, 0.95)),
        "hybrid_p50_ms": round(p(hybrid, 0.5)),
        "hybrid_p95_ms": round(p(hybrid, 0.95)),
        "hybrid_vs_slower_leg_p50": round(ratio),
        "load_rows_per_s": round(f64::from(args.rows) / load.as_secs_f64()),
        "cache_mib": args.cache_mib,
        "cache_hit_rate": round(cache.hits as f64 / (cache.hits + cache.misses).max(1) as f64),
        "warming_terms": args.warm_terms,
        "warming_lists": warmed.lists,
        "warming_ms": round(warming.as_secs_f64() * 1e3),
    });
    println!("{summary}");
    Ok(())
}

/// One search in `mode`; returns the number of hits.
async fn one(
    db: &Db,
    collection: &Collection,
    project: &str,
    text: &str,
    vector: &[f32],
    mode: Mode,
) -> anyhow::Result<usize> {
    let results = search(db)
        .text(text)
        .embedding(vector)
        .collection(collection)
        .project(project)
        .kinds([SourceKind::CodeChunk])
        .mode(mode)
        .candidates(100)
        .limit(10)
        .execute()
        .await?;
    Ok(results.hits.len())
}
