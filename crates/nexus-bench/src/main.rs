//! `nexus-bench`: the evaluation and benchmark programs behind `cargo xtask eval` and
//! `cargo xtask bench knn|fts|hybrid|embed|state|transcripts|artifacts|serve` (`bench index` is this package's other binary,
//! `nexus-bench-index`, which needs a global allocator of its own).
//!
//! * `eval` — retrieval quality of a search mode on a BEIR-layout dataset (TREC run + metrics).
//! * `eval-code` — code search quality (CodeSearchNet-style) on crates of the local cargo registry.
//! * `bench-knn` — vector KNN (nexus-vector) against an app-layer scan and a memory-bound scan.
//! * `bench-fts` — full-text search over synthetic code chunks.
//! * `bench-hybrid` — hybrid search, each leg alone and fused, over synthetic rows with vectors.
//! * `bench-state` — project state: load (and a naive load), checkpoint, restore, STATE.md.
//! * `bench-transcripts` — transcript append rate, page reads at both ends, streaming memory.
//! * `bench-embed` — the local neural embedder's speed on SciFact, against the same model in
//!   Python (sentence-transformers) in the same run.
//! * `bench-serve` — the HTTP API (nexus-server) under 64 concurrent connections: req/s and
//!   p50/p99 for recall, search, knowledge create and a mixed workload; lost writes.
//! * `bench-artifacts` — the artifact store: put/get MB/s (a large log, many small files) and
//!   compression next to `zstd -3`.
//!
//! Each prints what it measured and, last, one JSON line. They link the workspace crates, so
//! they live outside `xtask` itself: `cargo xtask prepare` must build even when `.sqlx/` lacks a
//! query that was just added. xtask runs this binary in an optimised build (`--release`), so
//! the numbers it prints are honest.
// A benchmark's output is its report: printing it is the point (libraries use tracing).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench_archive;
mod bench_artifacts;
mod bench_embed;
mod bench_fts;
mod bench_hybrid;
mod bench_knn;
mod bench_serve;
mod bench_state;
mod bench_transcripts;
mod eval;
mod eval_code;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "nexus-bench", about = "Nexus evaluation and benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Retrieval quality of a search mode on a BEIR-layout dataset (TREC run + metrics).
    Eval(eval::EvalArgs),
    /// Code search quality on crates of the local cargo registry (CodeSearchNet-style).
    EvalCode(eval_code::Args),
    /// KNN benchmark: sqlite-vec collections against an app-layer scan and a memory-bound scan.
    BenchKnn(bench_knn::Args),
    /// Full-text search latency over synthetic code chunks.
    BenchFts(bench_fts::Args),
    /// Hybrid search latency (both legs and fused) over synthetic rows with vectors.
    BenchHybrid(bench_hybrid::Args),
    /// Project state: load (against a naive load), checkpoint, restore, STATE.md export/import.
    BenchState(bench_state::Args),
    /// Transcripts: append rate, keyset pages at both ends, streaming memory.
    BenchTranscripts(bench_transcripts::Args),
    /// Neural embedder speed (documents/s, one query's latency) against a Python reference.
    BenchEmbed(bench_embed::Args),
    /// Artifact store: put/get throughput (a large log, many small files) and compression ratio.
    BenchArtifacts(bench_artifacts::Args),
    /// The HTTP API under load: recall, search, knowledge create and a mixed workload.
    BenchServe(bench_serve::Args),
    /// Archives: export and import of a project with code chunks, vectors and artifacts.
    BenchArchive(bench_archive::Args),
}

fn main() -> anyhow::Result<()> {
    // As the `nexus` binary does, so the neural embedder is measured as users run it.
    nexus_embed::tune_allocator();
    match Cli::parse().command {
        Command::Eval(args) => eval::run(args),
        Command::EvalCode(args) => eval_code::run(args),
        Command::BenchKnn(args) => bench_knn::run(args),
        Command::BenchFts(args) => bench_fts::run(args),
        Command::BenchHybrid(args) => bench_hybrid::run(args),
        Command::BenchState(args) => bench_state::run(args),
        Command::BenchTranscripts(args) => bench_transcripts::run(args),
        Command::BenchEmbed(args) => bench_embed::run(args),
        Command::BenchArtifacts(args) => bench_artifacts::run(args),
        Command::BenchServe(args) => bench_serve::run(args),
        Command::BenchArchive(args) => bench_archive::run(args),
    }
}
