//! Project automation, run as `cargo xtask <command>`.
//!
//! * `prepare` — regenerate `.sqlx/` (the offline query data) from scratch: a fresh database,
//!   the migrations, and a check build with the query macros online.
//! * `prepare --check` — the same into a scratch directory, failing if `.sqlx/` differs.
//! * `eval --dataset DIR --mode fts --out RUN.trec` — retrieval quality on a BEIR dataset.
//! * `bench fts` — full-text search latency over synthetic code chunks.
//!
//! `eval` and `bench` link the workspace crates (feature `search`, on by default), whose query
//! macros need `.sqlx/`; after adding or editing a query, regenerate it with the lean build:
//! `cargo run -p xtask --no-default-features -- prepare`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

#[cfg(feature = "search")]
mod bench_fts;
#[cfg(feature = "search")]
mod eval;
mod prepare;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Nexus project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate `.sqlx/` offline query data from a freshly migrated database.
    Prepare {
        /// Do not write `.sqlx/`; fail if it is stale.
        #[arg(long)]
        check: bool,
    },
    /// Retrieval quality of a search mode on a BEIR-layout dataset (TREC run + metrics).
    #[cfg(feature = "search")]
    Eval(eval::EvalArgs),
    /// Benchmarks; the last line of output is one JSON object.
    #[cfg(feature = "search")]
    Bench {
        #[command(subcommand)]
        target: Bench,
    },
}

#[cfg(feature = "search")]
#[derive(Subcommand)]
enum Bench {
    /// Full-text search over synthetic code chunks.
    Fts(bench_fts::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { check } => prepare::run(check),
        #[cfg(feature = "search")]
        Command::Eval(args) => eval::run(args),
        #[cfg(feature = "search")]
        Command::Bench { target: Bench::Fts(args) } => bench_fts::run(args),
    }
}
