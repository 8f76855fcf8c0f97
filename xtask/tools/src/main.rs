//! `nexus-tools`: the programs behind `cargo xtask eval` and `cargo xtask bench fts|hybrid`
//! (`bench index` is this package's other binary, `nexus-bench-index`).
//!
//! They link the workspace crates, so they live outside `xtask` itself: `cargo xtask prepare`
//! must build even when `.sqlx/` lacks a query that was just added. xtask runs this binary in
//! an optimised build, so the numbers it prints are honest.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench_fts;
mod bench_hybrid;
mod eval;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "nexus-tools", about = "Nexus evaluation and benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Retrieval quality of a search mode on a BEIR-layout dataset (TREC run + metrics).
    Eval(eval::EvalArgs),
    /// Full-text search latency over synthetic code chunks.
    BenchFts(bench_fts::Args),
    /// Hybrid search latency (both legs and fused) over synthetic rows with vectors.
    BenchHybrid(bench_hybrid::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Eval(args) => eval::run(args),
        Command::BenchFts(args) => bench_fts::run(args),
        Command::BenchHybrid(args) => bench_hybrid::run(args),
    }
}
