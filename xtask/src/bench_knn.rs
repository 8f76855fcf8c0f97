//! `cargo xtask bench knn [ARGS]`: the KNN benchmark of nexus-vector
//! (`crates/nexus-vector/benches/knn.rs`).
//!
//! The benchmark is run with `cargo bench`, so it is always an optimised build — Rust and the
//! C of SQLite and sqlite-vec alike — whatever profile xtask itself was built with. Its
//! arguments are passed through (`cargo xtask bench knn --help` lists them); it prints a table
//! and, as its last line, one JSON object.

use std::process::Command;

use anyhow::{Context, ensure};

use crate::prepare::workspace_root;

/// Runs the benchmark with `args`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(workspace_root())
        .args(["bench", "--quiet", "-p", "nexus-vector", "--bench", "knn", "--"])
        .args(args)
        .status()
        .context("running cargo bench")?;
    ensure!(status.success(), "the knn benchmark failed ({status})");
    Ok(())
}
