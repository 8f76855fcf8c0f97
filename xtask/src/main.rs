//! Project automation, run as `cargo xtask <command>`.
//!
//! * `prepare` — regenerate `.sqlx/` (the offline query data) from scratch: a fresh database,
//!   the migrations, and a check build with the query macros online.
//! * `prepare --check` — the same into a scratch directory, failing if `.sqlx/` differs.
//! * `bench knn [ARGS]` — the vector KNN benchmark (optimised build; see `bench_knn.rs`).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench_knn;
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
    /// Run a benchmark (always an optimised build); prints a table, then one JSON line.
    #[command(subcommand)]
    Bench(Bench),
}

/// The benchmarks.
#[derive(Subcommand)]
enum Bench {
    /// Vector KNN (nexus-vector): sqlite-vec collections against an app-layer scan and a
    /// memory-bound scan. `cargo xtask bench knn -- --help` lists the options.
    Knn {
        /// Passed to the benchmark (`--n`, `--dims`, `--queries`, `--k`, `--from DIR`, …).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { check } => prepare::run(check),
        Command::Bench(Bench::Knn { args }) => bench_knn::run(&args),
    }
}
