//! Project automation, run as `cargo xtask <command>`.
//!
//! * `prepare` — regenerate `.sqlx/` (the offline query data) from scratch: a fresh database,
//!   the migrations, and a check build with the query macros online.
//! * `prepare --check` — the same into a scratch directory, failing if `.sqlx/` differs.
//! * `eval --dataset DIR --mode fts|vector|hybrid --out RUN.trec` — retrieval quality on a
//!   BEIR-layout dataset (runs `nexus-bench eval`).
//! * `eval-code [ARGS]` — code search quality on crates of the local cargo registry (runs
//!   `nexus-bench eval-code`).
//! * `bench knn|fts|hybrid|embed|state|transcripts|artifacts|serve|archive [ARGS]` — benchmarks (run
//!   `nexus-bench bench-<name>`); each prints a table, then one JSON line.
//! * `bench index [ARGS]` — memory and speed of indexing a synthetic tree (runs
//!   `nexus-bench-index`, a binary of its own for its counting global allocator).
//! * `crash --kills N [--seed S]` — the crash suite: SIGKILL a process doing mixed writes N
//!   times, check the file after each kill; the last line is a JSON summary (runs
//!   `nexus-crash`, `crates/nexus-crash`).
//!
//! xtask itself links no workspace crate, so it builds even when `.sqlx/` is stale; `eval` and
//! `bench` are a thin runner: they forward their arguments to `cargo run --release` of the
//! programs that do link them (`crates/nexus-bench`), whose output is passed through unchanged.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod prepare;

use std::process::Command as Process;

use anyhow::{Context, ensure};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Nexus project automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Arguments passed through to the program that does the work (`-- --help` lists them).
#[derive(clap::Args)]
struct PassThrough {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate `.sqlx/` offline query data from a freshly migrated database.
    Prepare {
        /// Do not write `.sqlx/`; fail if it is stale.
        #[arg(long)]
        check: bool,
    },
    /// Retrieval quality on a BEIR-layout dataset: TREC run file, then metrics as one JSON line.
    Eval(PassThrough),
    /// Code search quality (CodeSearchNet-style, crates of the local cargo registry): Success@1,
    /// Success@10, MRR@10 and strict Success@1 per mode, then one JSON line.
    EvalCode(PassThrough),
    /// Run a benchmark (always an optimised build); prints a table, then one JSON line.
    #[command(subcommand)]
    Bench(Bench),
    /// Crash suite (optimised build): SIGKILL a writer at random points, check the file after
    /// each kill; prints a JSON summary (`kills`, `acknowledged`, `lost`, `corrupt`) last.
    Crash(PassThrough),
}

/// The benchmarks.
#[derive(Subcommand)]
enum Bench {
    /// Vector KNN (nexus-vector) against an app-layer scan and a memory-bound scan.
    Knn(PassThrough),
    /// Full-text search over synthetic code chunks.
    Fts(PassThrough),
    /// Hybrid search (each leg alone and fused) over synthetic rows with vectors.
    Hybrid(PassThrough),
    /// Project state: load (against a naive load), checkpoint, restore, STATE.md export/import.
    State(PassThrough),
    /// Transcripts: append rate, keyset pages at both ends, streaming memory.
    Transcripts(PassThrough),
    /// The local neural embedder on SciFact (docs/s, one query's p50) against the same model
    /// in Python (sentence-transformers, installed into a venv under the target dir).
    Embed(PassThrough),
    /// Artifact store: put/get MB/s for a large log and many small files, compression vs `zstd -3`.
    Artifacts(PassThrough),
    /// The HTTP API (`nexus serve`) under load: 64 connections, req/s and p50/p99 for recall,
    /// search, knowledge create and a mixed workload; every acknowledged write checked after.
    Serve(PassThrough),
    /// Archives: export and import of a project with code chunks, vectors and artifacts.
    Archive(PassThrough),
    /// Indexing a synthetic source tree (`Store::index_dir`): time, peak heap and peak RSS.
    Index(PassThrough),
}

/// Runs `cargo <cargo_args> -- <args>` in the workspace root.
fn cargo(cargo_args: &[&str], args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Process::new(&cargo)
        .current_dir(prepare::workspace_root())
        .args(cargo_args)
        .arg("--")
        .args(args)
        .status()
        .with_context(|| format!("running cargo {}", cargo_args.join(" ")))?;
    ensure!(status.success(), "cargo {} failed ({status})", cargo_args.join(" "));
    Ok(())
}

/// Runs `nexus-bench <tool> <args>` in an optimised build.
fn tool(tool: &str, args: &[String]) -> anyhow::Result<()> {
    let mut all = vec![tool.to_owned()];
    all.extend_from_slice(args);
    cargo(&["run", "--quiet", "--release", "-p", "nexus-bench", "--bin", "nexus-bench"], &all)
}

/// Builds both crash-suite binaries (`cargo run` would build only the one it runs), then runs
/// the campaign, which finds `nexus-crash-child` next to itself.
fn crash(args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = ["build", "--quiet", "--release", "-p", "nexus-crash", "--bins"];
    let status = Process::new(&cargo)
        .current_dir(prepare::workspace_root())
        .args(build)
        .status()
        .context("running cargo build")?;
    ensure!(status.success(), "cargo {} failed ({status})", build.join(" "));
    self::cargo(&["run", "--quiet", "--release", "-p", "nexus-crash", "--bin", "nexus-crash"], args)
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prepare { check } => prepare::run(check),
        Command::Eval(pass) => tool("eval", &pass.args),
        Command::EvalCode(pass) => tool("eval-code", &pass.args),
        Command::Bench(Bench::Knn(pass)) => tool("bench-knn", &pass.args),
        Command::Bench(Bench::Fts(pass)) => tool("bench-fts", &pass.args),
        Command::Bench(Bench::Hybrid(pass)) => tool("bench-hybrid", &pass.args),
        Command::Bench(Bench::State(pass)) => tool("bench-state", &pass.args),
        Command::Bench(Bench::Transcripts(pass)) => tool("bench-transcripts", &pass.args),
        Command::Bench(Bench::Embed(pass)) => tool("bench-embed", &pass.args),
        Command::Bench(Bench::Artifacts(pass)) => tool("bench-artifacts", &pass.args),
        Command::Bench(Bench::Serve(pass)) => tool("bench-serve", &pass.args),
        Command::Bench(Bench::Archive(pass)) => tool("bench-archive", &pass.args),
        // Its own binary: it counts allocations with a global allocator of its own.
        Command::Bench(Bench::Index(pass)) => cargo(
            &["run", "--quiet", "--release", "-p", "nexus-bench", "--bin", "nexus-bench-index"],
            &pass.args,
        ),
        Command::Crash(pass) => crash(&pass.args),
    }
}
