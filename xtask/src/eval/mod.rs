//! `cargo xtask eval --dataset DIR --mode fts --out RUN.trec [--qrels test|train]`:
//! retrieval quality of Nexus search on a dataset in the BEIR layout.
//!
//! 1. Load the corpus into a fresh database file through the public API ([`ingest`]).
//! 2. Run every query of the chosen qrels split through the chosen search mode, timing each.
//! 3. Write a TREC run (top `--top` per query) and score it with [`metrics`], which mirrors
//!    `/work/shared/eval/tools/evaluate.py`; print the metrics and latency, the last line as
//!    one JSON object.

mod dataset;
mod fts;
mod ingest;
mod metrics;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use nexus_db::Db;

use dataset::{Dataset, Split};

/// Search modes the harness can evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// Full-text search (nexus-fts, BM25).
    Fts,
}

/// How plain query words combine in `--mode fts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatchArg {
    /// A document needs any of the words.
    Any,
    /// A document needs all of the words.
    All,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Dataset directory (corpus.jsonl, queries.jsonl, qrels-test.tsv, qrels-train.tsv).
    #[arg(long)]
    dataset: PathBuf,
    /// Search mode to evaluate.
    #[arg(long, value_enum)]
    mode: Mode,
    /// Where to write the TREC run file.
    #[arg(long)]
    out: PathBuf,
    /// Which judgments (and queries) to use; tune on train, report test.
    #[arg(long, value_enum, default_value = "test")]
    qrels: Split,
    /// Results kept per query.
    #[arg(long, default_value_t = 100)]
    top: u32,
    /// How plain words combine (fts mode).
    #[arg(long = "match", value_enum, default_value = "any")]
    match_mode: MatchArg,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(evaluate(args))
}

async fn evaluate(args: EvalArgs) -> anyhow::Result<()> {
    let dataset = Dataset::load(&args.dataset, args.qrels)
        .with_context(|| format!("loading dataset {}", args.dataset.display()))?;
    let scratch = tempfile::tempdir()?;
    let db = Db::open(scratch.path().join("eval.db")).await?;
    let started = Instant::now();
    let project = ingest::load_corpus(&db, &dataset).await?;
    println!("loaded {} documents in {:.1} s", dataset.documents.len(), started.elapsed().as_secs_f64());

    let (results, latencies, tag) = match args.mode {
        Mode::Fts => {
            let mode = match args.match_mode {
                MatchArg::Any => nexus_fts::MatchMode::Any,
                MatchArg::All => nexus_fts::MatchMode::All,
            };
            let (results, latencies) = fts::run_queries(&db, &project, &dataset, mode, args.top).await?;
            (results, latencies, format!("nexus-fts-{}", if mode == nexus_fts::MatchMode::Any { "any" } else { "all" }))
        }
    };
    db.close().await?;

    metrics::write_run(&args.out, &results, &tag)?;
    let run = metrics::read_run(&args.out)?;
    let (mean, queries, missing) = metrics::evaluate(&run, &dataset.qrels);
    let (p50, p95) = (percentile_ms(&latencies, 0.50), percentile_ms(&latencies, 0.95));
    println!("run written to {}", args.out.display());
    println!("queries={queries} missing_from_run={missing}");
    println!("nDCG@10\t{:.4}\nRecall@10\t{:.4}\nRecall@100\t{:.4}\nMRR@10\t{:.4}", mean.ndcg_10, mean.recall_10, mean.recall_100, mean.mrr_10);
    println!("latency p50 {p50:.3} ms, p95 {p95:.3} ms");
    let summary = serde_json::json!({
        "dataset": args.dataset.display().to_string(),
        "mode": tag,
        "qrels": args.qrels.name(),
        "queries": queries,
        "missing_from_run": missing,
        "ndcg@10": round4(mean.ndcg_10),
        "recall@10": round4(mean.recall_10),
        "recall@100": round4(mean.recall_100),
        "mrr@10": round4(mean.mrr_10),
        "latency_p50_ms": round4(p50),
        "latency_p95_ms": round4(p95),
    });
    println!("{summary}");
    Ok(())
}

/// Nearest-rank percentile of `samples`, in milliseconds.
pub fn percentile_ms(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}
